namespace Sndctl.Provisioning.Core;

/// <summary>How device LAN addresses are accepted and published (<c>Provisioning:Addresses</c>).</summary>
public sealed class AddressOptions
{
    /// <summary>
    /// Accept and publish public (globally routable) addresses too (<c>Provisioning:Addresses:AllowPublic</c>).
    /// Default <see langword="false"/>: only private IPv4 (10/8, 172.16/12, 192.168/16) and unique local IPv6 (fc00::/7).
    /// </summary>
    public bool AllowPublic { get; set; }

    /// <summary>
    /// Changes of its address set one device may make per hour (<c>Provisioning:Addresses:ChangesPerHour</c>, default 12),
    /// counted on the device's row (one write with the new set) across instances; sending the set it already has never counts.
    /// </summary>
    public int ChangesPerHour { get; set; } = 12;
}
