namespace Sndctl.Provisioning.Core;

/// <summary>A newly created device, with the secret that is shown only once.</summary>
public sealed record CreatedDevice(string DeviceId, string Secret, string Hostname, DeviceStatus Status, DateTimeOffset CreatedAt);
