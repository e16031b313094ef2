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
    public static string KeyOf(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}
