namespace Sndctl.Provisioning.Core;

/// <summary>Fleet management: the operations behind the admin API and portal.</summary>
public interface IDeviceAdminService
{
    /// <summary>Pre-provisions one device; the returned secret is shown only here.</summary>
    /// <param name="deviceId">The ID to use, or <see langword="null"/> for a random one.</param>
    /// <param name="labels">Labels to attach.</param>
    /// <param name="actor">Who does it, for the audit log.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="DeviceValidationException">The ID or labels are not acceptable.</exception>
    /// <exception cref="DuplicateDeviceException">The ID exists already.</exception>
    Task<CreatedDevice> CreateDeviceAsync(string? deviceId, IReadOnlyDictionary<string, string>? labels, string actor, CancellationToken cancellationToken);

    /// <summary>Pre-provisions <paramref name="count"/> devices with random IDs, atomically.</summary>
    /// <exception cref="DeviceValidationException">The count or labels are not acceptable.</exception>
    Task<IReadOnlyList<CreatedDevice>> CreateDevicesAsync(int count, IReadOnlyDictionary<string, string>? labels, string actor, CancellationToken cancellationToken);

    /// <summary>A page of devices with their current certificates.</summary>
    Task<Page<DeviceSummary>> ListDevicesAsync(DeviceQuery query, CancellationToken cancellationToken);

    /// <summary>One device with its certificate history and recent events; <see langword="null"/> when unknown.</summary>
    Task<DeviceDetails?> GetDeviceAsync(string deviceId, CancellationToken cancellationToken);

    /// <summary>Disables or enables a device; <see langword="false"/> when unknown.</summary>
    Task<bool> SetEnabledAsync(string deviceId, bool enabled, string actor, CancellationToken cancellationToken);

    /// <summary>Replaces the device secret; returns the new secret, or <see langword="null"/> when unknown.</summary>
    Task<string?> RotateSecretAsync(string deviceId, string actor, CancellationToken cancellationToken);

    /// <summary>Revokes the device's current certificate at its CA.</summary>
    Task<RevokeOutcome> RevokeCertificateAsync(string deviceId, string actor, CancellationToken cancellationToken);

    /// <summary>Deletes a device and its certificates (events are kept); <see langword="false"/> when unknown.</summary>
    Task<bool> DeleteDeviceAsync(string deviceId, string actor, CancellationToken cancellationToken);

    /// <summary>A page of audit events, newest first.</summary>
    Task<Page<AuditEvent>> ListEventsAsync(string? deviceId, int page, int pageSize, CancellationToken cancellationToken);

    /// <summary>Fleet figures for a dashboard.</summary>
    Task<FleetStatistics> GetStatisticsAsync(CancellationToken cancellationToken);
}

/// <summary>A newly created device, with the secret that is shown only once.</summary>
public sealed record CreatedDevice(string DeviceId, string Secret, string Hostname, DeviceStatus Status, DateTimeOffset CreatedAt);

/// <summary>A device in a listing, with its current certificate.</summary>
public sealed record DeviceSummary(Device Device, DeviceCertificate? Certificate);

/// <summary>A device with its certificate history (newest first) and recent events.</summary>
public sealed record DeviceDetails(Device Device, IReadOnlyList<DeviceCertificate> Certificates, IReadOnlyList<AuditEvent> Events);

/// <summary>Fleet figures.</summary>
public sealed record FleetStatistics(IReadOnlyDictionary<DeviceStatus, int> DevicesByStatus, int ExpiringWithin7Days, int ExpiringWithin30Days);

/// <summary>How a revocation ended.</summary>
public enum RevokeOutcome
{
    /// <summary>The certificate was revoked; the device gets a new one on its next call.</summary>
    Revoked,
    /// <summary>No such device.</summary>
    DeviceNotFound,
    /// <summary>The device holds no certificate.</summary>
    NoCertificate,
    /// <summary>The certificate came from an issuer this server no longer uses.</summary>
    IssuerMismatch,
}

/// <summary>An admin request the server cannot accept; the message says what to fix.</summary>
public sealed class DeviceValidationException(string message) : Exception(message);
