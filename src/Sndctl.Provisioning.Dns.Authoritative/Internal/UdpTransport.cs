using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using ARSoft.Tools.Net.Dns;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// The UDP side of the server: a receive loop of our own on dedicated threads (one per core, at most four, all on
/// one socket) that answers the common queries itself (<see cref="FastAnswer"/>: no thread-pool hop, no object per
/// packet) and hands the rest, parsed by nobody yet, to ARSoft's <see cref="DnsServer"/> through this class, which
/// is that server's UDP transport: rare queries (ANY, NS, EDNS options, what does not fit) get the library's
/// parsing, answers and truncation as before. Packets that cannot be a query (shorter than a header, or with the
/// response bit set: answering those would let two servers bounce packets at each other) are dropped and counted
/// before anything else; queries up to the EDNS(0) payload size we advertise are read whole. Every answer, from
/// either path, passes the response rate limiter (<see cref="ResponseRateLimiter"/>) on the way out. The queue to
/// the library is bounded: when it is full, further odd queries are dropped and counted.
/// </summary>
internal sealed class UdpTransport : IServerTransport
{
    /// <summary>The largest query read: the UDP payload size we advertise (a query is far smaller).</summary>
    private const int MaxQuerySize = ZoneResponder.MaxUdpPayload;
    private const int HeaderSize = 12;
    private const int SlowQueueLength = 512;

    private readonly IPEndPoint _endpoint;
    private readonly Socket _socket;
    private readonly Func<ZoneTable?> _zone;
    private readonly FastAnswer _fast;
    private readonly DnsServerMetrics _metrics;
    private readonly ResponseRateLimiter _limiter;
    private readonly Channel<DnsReceivedRawPackage> _slow = Channel.CreateBounded<DnsReceivedRawPackage>(
        new BoundedChannelOptions(SlowQueueLength) { FullMode = BoundedChannelFullMode.DropWrite, SingleWriter = false });

    private Thread[] _threads = [];
    private volatile bool _closed;

    public UdpTransport(IPEndPoint endpoint, Func<ZoneTable?> zone, FastAnswer fast, ResponseRateLimiter limiter, DnsServerMetrics metrics)
    {
        _endpoint = endpoint;
        _zone = zone;
        _fast = fast;
        _limiter = limiter;
        _metrics = metrics;
        _socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            _socket.DualMode = true;
        }
    }

    public ushort DefaultAllowedResponseSize => 512;

    public bool SupportsMultipleResponses => false;

    public bool AllowTruncatedResponses => true;

    public TransportProtocol TransportProtocol => TransportProtocol.Udp;

    /// <summary>Binds the socket and starts the receive loops (the library calls it when it starts).</summary>
    public void Bind()
    {
        _socket.Bind(_endpoint);
        ThreadStart loop = Receive;
        if (BatchedUdp.Supported)
        {
            // Blocking calls with a timeout: a loop sees the socket closed within a second.
            _socket.ReceiveTimeout = 1000;
            loop = ReceiveBatches;
        }

        _threads = [.. Enumerable.Range(0, Math.Clamp(Environment.ProcessorCount, 1, 4)).Select(i => new Thread(loop) { IsBackground = true, Name = $"sndctl-dns-udp-{i}" })];
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    public void Close()
    {
        _closed = true;
        _socket.Close();
        _slow.Writer.TryComplete();
    }

    public void Dispose()
    {
        _socket.Dispose();
        _slow.Writer.TryComplete();
    }

    /// <summary>The next query the fast path left to the library.</summary>
    public async Task<IServerConnection?> AcceptConnectionAsync(CancellationToken token = default)
    {
        try
        {
            return new Connection(this, await _slow.Reader.ReadAsync(token).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is ChannelClosedException or OperationCanceledException)
        {
            // Stopped. Nothing may escape: the library's accept loop would end with an error.
            await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return null;
        }
    }

    private void Receive()
    {
        var buffer = new byte[MaxQuerySize];
        var response = new byte[ZoneResponder.MaxUdpPayload];
        var remote = new SocketAddress(_endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork);
        while (true)
        {
            int received;
            try
            {
                received = _socket.ReceiveFrom(buffer, SocketFlags.None, remote);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused or SocketError.MessageSize or SocketError.HostUnreachable or SocketError.NetworkUnreachable)
            {
                _metrics.Dropped(); // an ICMP error from an earlier send, or a datagram larger than any query
                continue;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return; // closed
            }

            if (received < HeaderSize || (buffer[2] & 0x80) != 0)
            {
                _metrics.Dropped();
                continue;
            }

            try
            {
                var length = _fast.TryWrite(buffer.AsSpan(0, received), response, _zone(), out var returnCode);
                if (length == 0)
                {
                    HandOff(buffer.AsSpan(0, received), (IPEndPoint)_endpoint.Create(remote));
                    continue;
                }

                _metrics.AnsweredUdp(returnCode);
                Send(response.AsSpan(0, length), remote);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _metrics.Dropped(); // as above: one datagram's fault ends with it
            }
        }
    }

    /// <summary>The receive loop on Linux: datagrams read and answered in batches (<see cref="BatchedUdp"/>).</summary>
    private void ReceiveBatches()
    {
        using var batch = new BatchedUdp(MaxQuerySize, ZoneResponder.MaxUdpPayload);
        while (!_closed)
        {
            var received = batch.Receive(_socket.SafeHandle);
            if (received < 0)
            {
                return; // closed
            }

            var zone = _zone();
            var answers = 0;
            for (var i = 0; i < received; i++)
            {
                // Whatever a datagram does to us, it costs that datagram only: an exception on these threads would end
                // the process.
                try
                {
                    var query = batch.Query(i);
                    if (query.Length < HeaderSize || (query[2] & 0x80) != 0)
                    {
                        _metrics.Dropped();
                        continue;
                    }

                    var response = batch.Response(answers);
                    var length = _fast.TryWrite(query, response, zone, out var returnCode);
                    if (length == 0)
                    {
                        HandOff(query, batch.Sender(i, _endpoint));
                        continue;
                    }

                    _metrics.AnsweredUdp(returnCode);
                    if (_limiter.Enabled)
                    {
                        switch (_limiter.Decide(batch.Sender(i, _endpoint).Address, response[..length]))
                        {
                            case RateLimitAction.Drop:
                                _metrics.Limited("dropped");
                                continue;
                            case RateLimitAction.Slip:
                                _metrics.Limited("slipped");
                                length = ResponseRateLimiter.Truncate(response[..length]);
                                if (length == 0)
                                {
                                    continue;
                                }

                                break;
                        }
                    }

                    batch.Answer(answers++, i, length);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    _metrics.Dropped();
                }
            }

            for (var failed = answers > 0 ? batch.Send(_socket.SafeHandle, answers) : 0; failed > 0; failed--)
            {
                _metrics.Dropped();
            }
        }
    }

    private void Send(Span<byte> data, SocketAddress remote)
    {
        try
        {
            if (_limiter.Enabled)
            {
                switch (_limiter.Decide(((IPEndPoint)_endpoint.Create(remote)).Address, data))
                {
                    case RateLimitAction.Drop:
                        _metrics.Limited("dropped");
                        return;
                    case RateLimitAction.Slip:
                        _metrics.Limited("slipped");
                        data = data[..ResponseRateLimiter.Truncate(data)];
                        if (data.Length == 0)
                        {
                            return;
                        }

                        break;
                }
            }

            _socket.SendTo(data, SocketFlags.None, remote);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _metrics.Dropped();
        }
    }

    private void HandOff(ReadOnlySpan<byte> query, IPEndPoint remote)
    {
        // The library's raw package: a two-byte length, then the message.
        var copy = new byte[query.Length + DnsRawPackage.LENGTH_HEADER_LENGTH];
        copy[0] = (byte)(query.Length >> 8);
        copy[1] = (byte)query.Length;
        query.CopyTo(copy.AsSpan(DnsRawPackage.LENGTH_HEADER_LENGTH));
        try
        {
            if (!_slow.Writer.TryWrite(new DnsReceivedRawPackage(copy, remote, _endpoint)))
            {
                _metrics.Dropped();
            }
        }
        catch (Exception)
        {
            // A packet the library cannot read (it throws what its parser meets): dropped.
            _metrics.Dropped();
        }
    }

    private sealed class Connection(UdpTransport owner, DnsReceivedRawPackage package) : IServerConnection
    {
        private bool _read;

        public IServerTransport Transport => owner;

        public IPEndPoint RemoteEndPoint => package.RemoteEndpoint;

        public IPEndPoint LocalEndPoint => package.LocalEndpoint;

        public bool CanRead => !_read;

        public Task<bool> InitializeAsync(CancellationToken token) => Task.FromResult(true);

        public Task<DnsReceivedRawPackage?> ReceiveAsync(CancellationToken token)
        {
            _read = true;
            return Task.FromResult<DnsReceivedRawPackage?>(package);
        }

        public Task<bool> SendAsync(DnsRawPackage response, CancellationToken token) => Task.FromResult(Send(response));

        private bool Send(DnsRawPackage response)
        {
            try
            {
                var data = response.ToArraySegment(false);
                switch (owner._limiter.Decide(package.RemoteEndpoint.Address, data))
                {
                    case RateLimitAction.Drop:
                        owner._metrics.Limited("dropped");
                        return true;
                    case RateLimitAction.Slip:
                        owner._metrics.Limited("slipped");
                        var truncated = data.ToArray();
                        var length = ResponseRateLimiter.Truncate(truncated);
                        return length > 0 && owner._socket.SendTo(truncated.AsSpan(0, length), SocketFlags.None, package.RemoteEndpoint) == length;
                }

                // Synchronously (a datagram does not wait): an asynchronous call would turn the socket non-blocking
                // under the receive loops, whose blocking reads would then spin.
                return owner._socket.SendTo(data, SocketFlags.None, package.RemoteEndpoint) == response.Length;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }

        public void Dispose()
        {
        }
    }
}
