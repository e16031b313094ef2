using System.Net;
using System.Net.Sockets;

namespace Sndctl.Provisioning.Core;

/// <summary>
/// The unit in which callers are counted by limits and throttles: one IPv4 address, or one IPv6 /64
/// (a single home or host is usually given a whole /64, so counting single IPv6 addresses would let
/// one caller appear as 2^64 callers).
/// </summary>
public static class ClientNetwork
{
    /// <summary>
    /// The key of <paramref name="address"/>'s network: the IPv4 address in dotted form (IPv4-mapped IPv6
    /// addresses included), or the first 64 bits of an IPv6 address as <c>2001:db8:0:1::/64</c>.
    /// </summary>
    public static string KeyOf(IPAddress address) => NetworkKey(address, 32, 64);

    /// <summary>
    /// The key of the network of <paramref name="address"/> one level up: its IPv4 /24 or IPv6 /48 (a site,
    /// however many addresses or /64s it holds), as <c>192.0.2.0/24</c> or <c>2001:db8:1::/48</c>.
    /// </summary>
    public static string SiteKeyOf(IPAddress address) => NetworkKey(address, 24, 48);

    /// <summary>The network of <paramref name="address"/> with the given prefix lengths, as text (no suffix for a whole IPv4 address).</summary>
    private static string NetworkKey(IPAddress address, int ipv4Prefix, int ipv6Prefix)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var v4 = address.AddressFamily != AddressFamily.InterNetworkV6;
        var prefix = v4 ? ipv4Prefix : ipv6Prefix;
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        bytes = bytes[..length];
        if (prefix >= length * 8)
        {
            return address.ToString();
        }

        bytes[(prefix / 8)..].Clear();
        return new IPAddress(bytes).ToString() + "/" + prefix.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
