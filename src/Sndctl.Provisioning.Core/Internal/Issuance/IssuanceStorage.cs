using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Step 3 of the issuance pipeline: the certificate the issuer obtained becomes the device's. It is stored with the
/// device pointed at it, the <c>certificate.issued</c> event and the end of the journal, in one transaction (a device
/// changed meanwhile is read again and the write retried). A device disabled or deleted while the CA worked never
/// gets it: it is stored, revoked at its CA and recorded, never handed out.
/// </summary>
internal sealed partial class IssuanceStorage(TimeProvider time, Random random, ILogger logger)
{
    public async Task<IssuanceOutcome> StoreAsync(IssuanceScope scope, IssuanceDecision.Issue issue, IssuedCertificate issued, bool journalled)
    {
        var pending = issue.Pending;
        var record = IssuedChain.ToDeviceCertificate(
            issued,
            scope.DeviceId,
            scope.Hostname,
            scope.Issuer.Name,
            pending.PublicKey,
            pending.ProtectedPrivateKey,
            issue.Current?.Id,
            time.GetUtcNow(),
            random,
            pending.Early);

        var services = scope.Services;
        var journal = services.GetRequiredService<IIssuanceJournalStore>();
        var refusal = await StoreAsync(services, journal, issue.Device, record, issue.Resuming, journalled ? pending : null, scope.CancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            // Disabled or deleted while the CA worked: the certificate is never handed out, and
            // revoked so that nobody holding it (nobody should) is trusted.
            await RevokeUnwantedAsync(services, scope.Issuer, services.GetRequiredService<ICertificateStore>(), record, refusal.Value).ConfigureAwait(false);
            return IssuanceOutcome.Refused(refusal.Value);
        }

        return new IssuanceOutcome(record, issue.PrivateKeyPem);
    }

    /// <summary>
    /// Stores the certificate, points the device at it, records the event and ends the unfinished
    /// issuance, in one transaction (<see cref="IIssuanceJournalStore.CompleteAsync"/>); a device that
    /// changed meanwhile is read again and the write retried. The refusal when it was disabled or
    /// deleted meanwhile: the certificate is then stored (to be revoked), never attached.
    /// </summary>
    private async Task<ProvisioningOutcome?> StoreAsync(IServiceProvider services, IIssuanceJournalStore journal, Device device, DeviceCertificate record, bool resumed, PendingIssuance? stored, CancellationToken cancellationToken)
    {
        var certificates = services.GetRequiredService<ICertificateStore>();
        var devices = services.GetRequiredService<IDeviceStore>();
        var issued = new AuditEvent
        {
            Timestamp = time.GetUtcNow(),
            DeviceId = device.DeviceId,
            Actor = AuditActors.System,
            Type = AuditEventTypes.CertificateIssued,
            Details = record.CertificateAuthority is { } ca
                ? $"{record.Issuer} serial {record.SerialNumber} from {ca}, valid until {record.NotAfter:O}"
                : $"{record.Issuer} serial {record.SerialNumber}, valid until {record.NotAfter:O}",
        };

        // A resumed issuance may have stored this very certificate before its process died: attach that one.
        if (resumed && (await certificates.ListByDeviceAsync(device.DeviceId, cancellationToken).ConfigureAwait(false))
                .FirstOrDefault(c => c.Issuer == record.Issuer && c.SerialNumber == record.SerialNumber) is { } already)
        {
            var attached = await AttachToDeviceAsync(devices, device, already, cancellationToken).ConfigureAwait(false);
            await journal.RemovePendingAsync(device.DeviceId, CancellationToken.None).ConfigureAwait(false);
            if (attached is null)
            {
                await services.GetRequiredService<IAuditEventStore>().AppendAsync(issued, cancellationToken).ConfigureAwait(false);
            }

            return attached;
        }

        for (var attempt = 1; ; attempt++)
        {
            if (device.Status == DeviceStatus.Disabled)
            {
                return await StoreRefusedAsync(ProvisioningOutcome.Disabled).ConfigureAwait(false);
            }

            PointAt(device, record);

            try
            {
                await journal.CompleteAsync(record, device, issued, stored, cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (ConcurrencyConflictException) when (attempt < 5)
            {
                // An admin (disable, rotate, delete) or last-seen update raced us: read it again and
                // apply ours on top of theirs, unless theirs ended the device.
                if (await devices.FindAsync(device.DeviceId, cancellationToken).ConfigureAwait(false) is not { } fresh)
                {
                    return await StoreRefusedAsync(ProvisioningOutcome.Unauthorized).ConfigureAwait(false);
                }

                device = fresh;
            }
        }

        async Task<ProvisioningOutcome?> StoreRefusedAsync(ProvisioningOutcome refusal)
        {
            await certificates.AddAsync(record, cancellationToken).ConfigureAwait(false);
            if (stored is not null)
            {
                await journal.RemovePendingAsync(device.DeviceId, CancellationToken.None).ConfigureAwait(false);
            }

            return refusal;
        }
    }

    /// <summary>The device's fields once it holds <paramref name="record"/>: current certificate, seen now, active.</summary>
    private void PointAt(Device device, DeviceCertificate record)
    {
        var now = time.GetUtcNow();
        device.CurrentCertificateId = record.Id;
        device.CurrentCertificateNotAfter = record.NotAfter;
        device.RegisteredAt ??= now;
        device.LastSeenAt = now;
        if (device.Status == DeviceStatus.Pending)
        {
            device.Status = DeviceStatus.Active;
        }
    }

    /// <summary>Points the device at its new certificate; the refusal when it was disabled or deleted meanwhile.</summary>
    private async Task<ProvisioningOutcome?> AttachToDeviceAsync(IDeviceStore devices, Device device, DeviceCertificate record, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (device.Status == DeviceStatus.Disabled)
            {
                return ProvisioningOutcome.Disabled;
            }

            PointAt(device, record);

            try
            {
                await devices.UpdateAsync(device, cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (ConcurrencyConflictException) when (attempt < 5)
            {
                // An admin (disable, rotate, delete) or last-seen update raced us: read it again and
                // apply ours on top of theirs, unless theirs ended the device.
                var fresh = await devices.FindAsync(device.DeviceId, cancellationToken).ConfigureAwait(false);
                if (fresh is null)
                {
                    return ProvisioningOutcome.Unauthorized;
                }

                device = fresh;
            }
        }
    }

    private async Task RevokeUnwantedAsync(IServiceProvider services, ICertificateIssuer issuer, ICertificateStore certificates, DeviceCertificate record, ProvisioningOutcome refusal)
    {
        var why = refusal == ProvisioningOutcome.Disabled ? "disabled" : "deleted";
        try
        {
            await issuer.RevokeAsync(record, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.UnwantedRevocationFailed(logger, record.DeviceId, record.SerialNumber, ex);
        }

        try
        {
            record.RevokedAt = time.GetUtcNow();
            await certificates.UpdateAsync(record, CancellationToken.None).ConfigureAwait(false);
            await services.GetRequiredService<IAuditEventStore>().AppendAsync(
                new AuditEvent
                {
                    Timestamp = time.GetUtcNow(),
                    DeviceId = record.DeviceId,
                    Actor = AuditActors.System,
                    Type = AuditEventTypes.CertificateRevoked,
                    Details = $"Serial {record.SerialNumber}: issued after the device was {why}, never handed out.",
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.UnwantedRevocationFailed(logger, record.DeviceId, record.SerialNumber, ex);
        }

        Log.UnwantedRevoked(logger, record.DeviceId, record.SerialNumber, why);
    }

    private static partial class Log
    {
        [LoggerMessage(7, LogLevel.Warning, "Certificate {SerialNumber} was issued to device {DeviceId} after it was {Why}: revoked, not handed out.")]
        public static partial void UnwantedRevoked(ILogger logger, string deviceId, string serialNumber, string why);

        [LoggerMessage(8, LogLevel.Error, "Revoking certificate {SerialNumber} of device {DeviceId} (issued after the device was disabled or deleted) failed; revoke it by hand.")]
        public static partial void UnwantedRevocationFailed(ILogger logger, string deviceId, string serialNumber, Exception exception);
    }
}
