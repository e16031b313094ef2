using System.Net;
using System.Net.Sockets;
using Sndctl.Provisioning.Internal;

namespace Sndctl.Provisioning.Core;

/// <summary>
/// The rules for the LAN addresses a device reports: at most <see cref="MaxCount"/>, written the usual way
/// (dotted quad, or IPv6 text without a zone), private IPv4 (10/8, 172.16/12, 192.168/16) or unique local IPv6
/// (fc00::/7); loopback, link-local, unspecified, multicast, broadcast, IPv4-mapped, cloud metadata, transition
/// (NAT64, 6to4, Teredo, 100.64/10) and documentation addresses never; public addresses only when
/// <see cref="AddressOptions.AllowPublic"/> allows them.
/// </summary>
public static class DeviceAddresses
{
    /// <summary>The most addresses one device may publish.</summary>
    public const int MaxCount = 4;

    /// <summary>The longest address text read (an IPv6 address is at most 45 characters).</summary>
    private const int MaxTextLength = 45;

    /// <summary>
    /// Reads a reported set: duplicates folded, canonical text, IPv4 before IPv6, each in byte order, so two
    /// reports of the same set compare equal.
    /// </summary>
    /// <param name="reported">The addresses as the device sent them.</param>
    /// <param name="allowPublic">Whether public addresses are accepted.</param>
    /// <param name="addresses">The set, when valid.</param>
    /// <param name="error">Why the set is refused, naming the address, when invalid.</param>
    /// <returns><see langword="true"/> when the set is valid.</returns>
    public static bool TryParse(IReadOnlyList<string?> reported, bool allowPublic, out IReadOnlyList<IPAddress> addresses, out string? error)
    {
        ArgumentNullException.ThrowIfNull(reported);
        addresses = [];
        if (reported.Count > MaxCount * 4)
        {
            error = $"addresses: at most {MaxCount} addresses.";
            return false;
        }

        var set = new List<IPAddress>(reported.Count);
        foreach (var text in reported)
        {
            if (!TryParseOne(text, out var address))
            {
                error = $"addresses: '{Shorten(text)}' is not an IPv4 address in dotted-quad form or an IPv6 address (without a zone).";
                return false;
            }

            if (Why(address, allowPublic) is { } reason)
            {
                error = $"addresses: {address} is {reason}; only {(allowPublic ? "unicast" : "private LAN")} addresses are published (IPv4 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, IPv6 fc00::/7{(allowPublic ? ", or public" : string.Empty)}).";
                return false;
            }

            if (!set.Contains(address))
            {
                set.Add(address);
            }
        }

        if (set.Count > MaxCount)
        {
            error = $"addresses: at most {MaxCount} addresses.";
            return false;
        }

        set.Sort(Compare);
        addresses = set;
        error = null;
        return true;
    }

    /// <summary>Whether two canonical sets (as <see cref="TryParse"/> makes them) are the same.</summary>
    public static bool SameSet(IReadOnlyList<IPAddress> a, IReadOnlyList<IPAddress> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Count == b.Count && a.Zip(b).All(p => p.First.Equals(p.Second));
    }

    /// <summary>Whether an address is a private LAN address: IPv4 10/8, 172.16/12, 192.168/16 or IPv6 fc00::/7.</summary>
    public static bool IsPrivate(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return AddressRanges.Classify(address) is AddressKind.PrivateIPv4 or AddressKind.UniqueLocal;
    }

    internal static int Compare(IPAddress x, IPAddress y)
    {
        if (x.AddressFamily != y.AddressFamily)
        {
            return x.AddressFamily == AddressFamily.InterNetwork ? -1 : 1;
        }

        return x.GetAddressBytes().AsSpan().SequenceCompareTo(y.GetAddressBytes());
    }

    private static bool TryParseOne(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrEmpty(text) || text.Length > MaxTextLength || text.Contains('%', StringComparison.Ordinal))
        {
            return false;
        }

        if (text.Contains(':', StringComparison.Ordinal))
        {
            return IPAddress.TryParse(text, out address!) && address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        // IPAddress.TryParse also reads "10.1" and "0x0a.0.0.1"; a device report is four decimal parts.
        var parts = text.Split('.');
        if (parts.Length != 4 || parts.Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit) || (p.Length > 1 && p[0] == '0') || int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) > 255))
        {
            return false;
        }

        address = IPAddress.Parse(text);
        return true;
    }

    private static string? Why(IPAddress address, bool allowPublic) => AddressRanges.Classify(address) switch
    {
        AddressKind.PrivateIPv4 or AddressKind.UniqueLocal => null,
        AddressKind.Public => allowPublic ? null : "a public address",
        AddressKind.IPv4Mapped => "an IPv4-mapped IPv6 address (send the IPv4 address)",
        AddressKind.Loopback => "a loopback address",
        AddressKind.LinkLocal => "a link-local address",
        AddressKind.CloudMetadata => "a cloud provider's metadata or service address",
        AddressKind.Transition => "in a transition or shared range (NAT64, 6to4, Teredo, 100.64.0.0/10) that leads to another network",
        AddressKind.Reserved => "in a documentation or reserved range",
        _ => "not a unicast address",
    };

    private static string Shorten(string? text) => text is null ? "null" : text.Length <= MaxTextLength ? text : text[..MaxTextLength] + "…";
}
