namespace Sndctl.Provisioning.Core;

/// <summary>Fleet figures.</summary>
public sealed record FleetStatistics(IReadOnlyDictionary<DeviceStatus, int> DevicesByStatus, int ExpiringWithin7Days, int ExpiringWithin30Days);
