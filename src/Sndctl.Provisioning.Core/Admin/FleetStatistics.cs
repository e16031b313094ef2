namespace Sndctl.Provisioning.Core;

/// <summary>Fleet figures.</summary>
public sealed record FleetStatistics(IReadOnlyDictionary<DeviceStatus, int> DevicesByStatus, int ExpiringWithin7Days, int ExpiringWithin30Days)
{
    /// <summary>Devices by what they last saw resolving their own hostname on their LAN (<see cref="Device.NameResolution"/>).</summary>
    public IReadOnlyDictionary<DeviceNameResolution, int> DevicesByNameResolution { get; init; } = new Dictionary<DeviceNameResolution, int>();

    /// <summary>Devices that still hold their factory secret (<see cref="DeviceSecretOrigin.Factory"/>).</summary>
    public int DevicesWithFactorySecret { get; init; }

    /// <summary>When the soonest-ending current, unrevoked device certificate ends (past when one has expired); null without any.</summary>
    public DateTimeOffset? EarliestCertificateExpiry { get; init; }
}
