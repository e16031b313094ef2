using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>What to do with one UDP answer.</summary>
internal enum RateLimitAction
{
    /// <summary>Send it.</summary>
    Send,

    /// <summary>Send it truncated (TC bit, no records): a real client asks again over TCP, which cannot be spoofed.</summary>
    Slip,

    /// <summary>Send nothing.</summary>
    Drop,
}

/// <summary>
/// Response rate limiting for UDP, as BIND's and Knot's RRL do it: identical answers to one client network (IPv4
/// /24, IPv6 /56) are counted in a token bucket of <c>ResponsesPerSecond</c> per second with a burst of as many;
/// beyond it every <c>Slip</c>-th answer goes out truncated and the rest are dropped. A flood with a spoofed
/// victim's address (an amplification attack) then reaches the victim as a trickle of small packets, while
/// every other client is answered normally. "Identical" means the same name and type with the same response
/// code; NXDOMAIN and error answers count per network whatever the name, so random names make no new buckets.
/// The table is bounded: idle buckets are swept at most once a second when it is full, and while it stays
/// full, networks without a bucket share one.
/// </summary>
internal sealed class ResponseRateLimiter(int responsesPerSecond, int slip, int capacity, TimeProvider time)
{
    private const int HeaderSize = 12;
    private readonly Dictionary<Key, Bucket> _buckets = new(Math.Min(capacity, 1024));
    private readonly Lock _lock = new();
    private long _lastSweep;

    public bool Enabled => responsesPerSecond > 0;

    /// <summary>Client networks (and answers) tracked now.</summary>
    internal int TrackedCount
    {
        get
        {
            lock (_lock)
            {
                return _buckets.Count;
            }
        }
    }

    /// <summary>Decides for one encoded answer to <paramref name="client"/>.</summary>
    public RateLimitAction Decide(IPAddress client, ReadOnlySpan<byte> response)
    {
        if (!Enabled || response.Length < HeaderSize)
        {
            return RateLimitAction.Send;
        }

        var key = KeyOf(client, response);
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (!_buckets.TryGetValue(key, out var bucket))
            {
                if (_buckets.Count >= capacity && !Sweep(now))
                {
                    // Full of live buckets (many networks at once): the newcomers share one.
                    key = default;
                    _buckets.TryGetValue(key, out bucket);
                }

                bucket ??= new Bucket { Tokens = responsesPerSecond, Updated = now };
                _buckets[key] = bucket;
            }

            var elapsed = time.GetElapsedTime(bucket.Updated, now).TotalSeconds;
            bucket.Tokens = Math.Min(responsesPerSecond, bucket.Tokens + (elapsed * responsesPerSecond));
            bucket.Updated = now;
            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
                return RateLimitAction.Send;
            }

            return slip > 0 && ++bucket.Limited % slip == 0 ? RateLimitAction.Slip : RateLimitAction.Drop;
        }
    }

    /// <summary>The slipped form of an answer: its header and question, TC set, no records (EDNS dropped too).</summary>
    public static int Truncate(Span<byte> response)
    {
        if (response.Length < HeaderSize || BinaryPrimitives.ReadUInt16BigEndian(response[4..]) != 1 || QuestionEnd(response) is not { } end)
        {
            return 0;
        }

        response[2] |= 0x02; // TC
        response[6..HeaderSize].Clear(); // ANCOUNT, NSCOUNT, ARCOUNT
        return end;
    }

    /// <summary>Drops buckets that have refilled (they say nothing a new one would not); false when none could go or it ran less than a second ago.</summary>
    private bool Sweep(long now)
    {
        if (_lastSweep != 0 && time.GetElapsedTime(_lastSweep, now) < TimeSpan.FromSeconds(1))
        {
            return false;
        }

        _lastSweep = now;
        var before = _buckets.Count;
        foreach (var (key, bucket) in _buckets)
        {
            if (time.GetElapsedTime(bucket.Updated, now).TotalSeconds * responsesPerSecond + bucket.Tokens >= responsesPerSecond)
            {
                _buckets.Remove(key);
            }
        }

        return _buckets.Count < before;
    }

    private static Key KeyOf(IPAddress client, ReadOnlySpan<byte> response)
    {
        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }

        Span<byte> address = stackalloc byte[16];
        client.TryWriteBytes(address, out var length);
        var network = client.AddressFamily == AddressFamily.InterNetwork
            ? (UInt128)BinaryPrimitives.ReadUInt32BigEndian(address) & 0xFFFFFF00
            : BinaryPrimitives.ReadUInt128BigEndian(address[..length]) & ~(((UInt128)1 << 72) - 1);

        // NXDOMAIN and errors: one bucket per network, whatever the name (random names must not make new buckets).
        var rcode = response[3] & 0x0F;
        var hash = new HashCode();
        hash.Add(rcode);
        if (rcode == 0 && QuestionEnd(response) is { } end)
        {
            foreach (var b in response[HeaderSize..end])
            {
                hash.Add(b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b);
            }
        }

        return new Key(network, client.AddressFamily == AddressFamily.InterNetwork, hash.ToHashCode());
    }

    /// <summary>Where the first question ends (its name, type and class), or null when it cannot be read.</summary>
    private static int? QuestionEnd(ReadOnlySpan<byte> message)
    {
        var at = HeaderSize;
        while (at < message.Length)
        {
            var length = message[at];
            if (length == 0)
            {
                return at + 5 <= message.Length ? at + 5 : null;
            }

            if (length > 63)
            {
                return null; // a compression pointer cannot come first in the question section
            }

            at += length + 1;
        }

        return null;
    }

    private readonly record struct Key(UInt128 Network, bool IPv4, int Answer);

    private sealed class Bucket
    {
        public double Tokens { get; set; }

        public long Updated { get; set; }

        public long Limited { get; set; }
    }
}
