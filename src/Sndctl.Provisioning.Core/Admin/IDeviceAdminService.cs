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

    /// <summary>
    /// Revokes one of the device's certificates (<see cref="DeviceCertificate.Id"/>) at its CA: its current one or an
    /// earlier one still valid. <see cref="RevokeOutcome.NoCertificate"/> when it is not the device's, already revoked
    /// or expired.
    /// </summary>
    Task<RevokeOutcome> RevokeCertificateAsync(string deviceId, Guid certificateId, string actor, CancellationToken cancellationToken);

    /// <summary>Deletes a device and its certificates (events are kept); <see langword="false"/> when unknown.</summary>
    Task<bool> DeleteDeviceAsync(string deviceId, string actor, CancellationToken cancellationToken);

    /// <summary>A page of audit events, newest first.</summary>
    Task<Page<AuditEvent>> ListEventsAsync(string? deviceId, int page, int pageSize, CancellationToken cancellationToken);

    /// <summary>Fleet figures for a dashboard.</summary>
    Task<FleetStatistics> GetStatisticsAsync(CancellationToken cancellationToken);
}
