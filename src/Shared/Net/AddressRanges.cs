using System.Net;
using System.Net.Sockets;

namespace Sndctl.Provisioning.Internal;

/// <summary>What an address is, as far as this product cares.</summary>
internal enum AddressKind
{
    /// <summary>A routable unicast address outside every range below.</summary>
    Public,

    /// <summary>RFC 1918 IPv4: 10/8, 172.16/12, 192.168/16.</summary>
    PrivateIPv4,

    /// <summary>IPv6 unique local addresses, fc00::/7.</summary>
    UniqueLocal,

    /// <summary>Loopback (127/8, ::1).</summary>
    Loopback,

    /// <summary>Link-local (169.254/16, fe80::/10) and the deprecated IPv6 site-local fec0::/10.</summary>
    LinkLocal,

    /// <summary>Multicast, broadcast, the unspecified address, 0/8, 240/4 and the other ranges no host has.</summary>
    NotUnicast,

    /// <summary>IPv4 written as IPv6 (::ffff:0:0/96): the IPv4 address should be sent instead.</summary>
    IPv4Mapped,

    /// <summary>
    /// A cloud provider's instance metadata or service address (AWS, GCP, Azure, Alibaba, Oracle): a name that
    /// points there turns any client that trusts it into a reader of the cloud's credentials.
    /// </summary>
    CloudMetadata,

    /// <summary>
    /// Addresses that lead to another network than they appear to: NAT64 (64:ff9b::/96, 64:ff9b:1::/48), 6to4
    /// (2002::/16), Teredo (2001::/32), carrier-grade shared space (100.64/10).
    /// </summary>
    Transition,

    /// <summary>Documentation and benchmarking ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 198.18/15, 2001:db8::/32, 3fff::/20) and IETF protocol assignments (192.0.0/24).</summary>
    Reserved,
}

/// <summary>
/// The one table of address ranges for the whole product: device LAN addresses, the private CA's CSR policy and
/// name constraints, and the CLI read it. The most specific range wins, so <c>fd00:ec2::254</c> (inside
/// fc00::/7) is <see cref="AddressKind.CloudMetadata"/>, not <see cref="AddressKind.UniqueLocal"/>.
/// Shared source: compiled into each assembly that needs it.
/// </summary>
internal static class AddressRanges
{
    private static readonly Range[] s_table =
    [
        new("10.0.0.0", 8, AddressKind.PrivateIPv4),
        new("172.16.0.0", 12, AddressKind.PrivateIPv4),
        new("192.168.0.0", 16, AddressKind.PrivateIPv4),
        new("127.0.0.0", 8, AddressKind.Loopback),
        new("169.254.0.0", 16, AddressKind.LinkLocal),
        new("0.0.0.0", 8, AddressKind.NotUnicast),
        new("224.0.0.0", 3, AddressKind.NotUnicast), // multicast 224/4, reserved 240/4 and 255.255.255.255
        new("100.64.0.0", 10, AddressKind.Transition),
        new("192.0.0.0", 24, AddressKind.Reserved),
        new("192.0.2.0", 24, AddressKind.Reserved),
        new("198.18.0.0", 15, AddressKind.Reserved),
        new("198.51.100.0", 24, AddressKind.Reserved),
        new("203.0.113.0", 24, AddressKind.Reserved),

        // Metadata and service addresses: AWS, Azure, GCP, Oracle (169.254.169.254, inside link-local anyway),
        // Azure's wire server, Alibaba (inside 100.64/10 anyway), AWS's and GCP's IPv6 service prefixes.
        new("169.254.169.254", 32, AddressKind.CloudMetadata),
        new("168.63.129.16", 32, AddressKind.CloudMetadata),
        new("100.100.100.200", 32, AddressKind.CloudMetadata),
        new("fd00:ec2::", 48, AddressKind.CloudMetadata),
        new("fd20:ce::", 48, AddressKind.CloudMetadata),

        new("::", 128, AddressKind.NotUnicast),
        new("::1", 128, AddressKind.Loopback),
        new("::ffff:0:0", 96, AddressKind.IPv4Mapped),
        new("fc00::", 7, AddressKind.UniqueLocal),
        new("fe80::", 10, AddressKind.LinkLocal),
        new("fec0::", 10, AddressKind.LinkLocal),
        new("ff00::", 8, AddressKind.NotUnicast),
        new("64:ff9b::", 96, AddressKind.Transition),
        new("64:ff9b:1::", 48, AddressKind.Transition),
        new("2002::", 16, AddressKind.Transition),
        new("2001::", 32, AddressKind.Transition),
        new("2001:db8::", 32, AddressKind.Reserved),
        new("3fff::", 20, AddressKind.Reserved),
        new("100::", 64, AddressKind.Reserved), // discard-only
    ];

    /// <summary>The private IPv4 ranges (RFC 1918), as the private CA's CSR intermediates permit them.</summary>
    public static IReadOnlyList<(IPAddress Network, int Prefix)> PrivateIPv4 { get; } =
        [.. s_table.Where(r => r.Kind == AddressKind.PrivateIPv4).Select(r => (r.Network, r.Prefix))];

    /// <summary>What <paramref name="address"/> is: the kind of the most specific range holding it.</summary>
    public static AddressKind Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var length))
        {
            return AddressKind.NotUnicast;
        }

        bytes = bytes[..length];
        var best = AddressKind.Public;
        var bestPrefix = -1;
        foreach (var range in s_table)
        {
            if (range.Bytes.Length == length && range.Prefix > bestPrefix && range.Contains(bytes))
            {
                (best, bestPrefix) = (range.Kind, range.Prefix);
            }
        }

        return best;
    }

    /// <summary>Whether <paramref name="address"/> is a private IPv4 address (10/8, 172.16/12, 192.168/16).</summary>
    public static bool IsPrivateIPv4(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork && Classify(address) == AddressKind.PrivateIPv4;

    private sealed class Range(string network, int prefix, AddressKind kind)
    {
        public IPAddress Network { get; } = IPAddress.Parse(network);

        public byte[] Bytes { get; } = IPAddress.Parse(network).GetAddressBytes();

        public int Prefix { get; } = prefix;

        public AddressKind Kind { get; } = kind;

        public bool Contains(ReadOnlySpan<byte> address)
        {
            var whole = Prefix / 8;
            if (!address[..whole].SequenceEqual(Bytes.AsSpan(0, whole)))
            {
                return false;
            }

            var rest = Prefix % 8;
            if (rest == 0)
            {
                return true;
            }

            var mask = (byte)(0xFF << (8 - rest));
            return (address[whole] & mask) == (Bytes[whole] & mask);
        }
    }
}
