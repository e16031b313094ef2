namespace Sndctl.Provisioning.Core;

/// <summary>
/// What a device saw when it resolved its own hostname through its LAN's resolver after publishing its addresses:
/// whether clients on the customer's network can reach it by name.
/// </summary>
public enum DeviceNameResolution
{
    /// <summary>Not reported.</summary>
    Unknown = 0,

    /// <summary>The name resolved to the device's addresses.</summary>
    Ok = 1,

    /// <summary>
    /// No answer, or a filtered one: a resolver that drops private addresses under public names (DNS-rebinding
    /// protection in home routers, dnsmasq <c>stop-dns-rebind</c>, pfSense, filtering resolvers).
    /// </summary>
    Blocked = 2,

    /// <summary>An answer with other addresses (a stale record, a split-horizon zone).</summary>
    Other = 3,
}
