namespace Sndctl.Provisioning.Core;

/// <summary>A device with its certificate history (newest first) and recent events.</summary>
public sealed record DeviceDetails(Device Device, IReadOnlyList<DeviceCertificate> Certificates, IReadOnlyList<AuditEvent> Events);
