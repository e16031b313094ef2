using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Internal;

internal sealed class DeviceAdminService(
    IDeviceStore devices,
    DeviceAddressPublisher addresses,
    ICertificateStore certificates,
    IAuditEventStore events,
    ICertificateIssuer issuer,
    DeviceSecretHasher hasher,
    IDataProtectionProvider dataProtection,
    TimeProvider time,
    FleetStatisticsCache statisticsCache,
    DeviceCountCache countCache,
    IOptionsMonitor<DeviceProvisioningOptions> options) : IDeviceAdminService
{
    internal const int MaxLabels = 32;
    internal const int MaxLabelKeyLength = 64;
    internal const int MaxLabelValueLength = 256;
    internal const int MaxLabelsJsonLength = 16_384;
    private const int RecentEventCount = 50;

    private readonly DeviceProvisioningOptions _options = options.CurrentValue;

    public async Task<CreatedDevice> CreateDeviceAsync(string? deviceId, IReadOnlyDictionary<string, string>? labels, string actor, CancellationToken cancellationToken)
    {
        if (deviceId is not null && !DeviceNames.IsValidDeviceId(deviceId))
        {
            throw new DeviceValidationException($"deviceId '{deviceId}' is not a DNS label: use lower-case letters a-z, digits and inner hyphens, 1 to 63 characters.");
        }

        if (deviceId is not null && _options.IsReservedDeviceId(deviceId))
        {
            // Its hostname would be a name the zone uses itself (a name server's, www): its addresses would join theirs.
            throw new DeviceValidationException($"deviceId '{deviceId}' is reserved: the zone uses {deviceId}.{_options.BaseDomain} itself (Provisioning:ReservedDeviceIds and the name servers' names). Choose another ID.");
        }

        ValidateLabels(labels);
        var generated = deviceId is null;
        for (var attempt = 1; ; attempt++)
        {
            var (device, secret) = await NewDeviceAsync(deviceId ?? NewUnreservedDeviceId(), labels, cancellationToken).ConfigureAwait(false);
            try
            {
                await devices.CreateAsync([device], cancellationToken).ConfigureAwait(false);
                Changed();
            }
            catch (DuplicateDeviceException) when (generated && attempt < 3)
            {
                continue;
            }

            await AuditAsync(device.DeviceId, actor, AuditEventTypes.DeviceCreated, null, cancellationToken).ConfigureAwait(false);
            return new CreatedDevice(device.DeviceId, secret, device.Hostname, device.Status, device.CreatedAt);
        }
    }

    /// <summary>A random ID that is not reserved (a configured reserved ID may look like a generated one).</summary>
    private string NewUnreservedDeviceId()
    {
        while (true)
        {
            var id = DeviceNames.NewDeviceId();
            if (!_options.IsReservedDeviceId(id))
            {
                return id;
            }
        }
    }

    public async Task<IReadOnlyList<CreatedDevice>> CreateDevicesAsync(int count, IReadOnlyDictionary<string, string>? labels, string actor, CancellationToken cancellationToken)
    {
        if (count < 1 || count > _options.MaxBatchSize)
        {
            throw new DeviceValidationException($"count must be between 1 and {_options.MaxBatchSize}.");
        }

        ValidateLabels(labels);
        for (var attempt = 1; ; attempt++)
        {
            var batch = new List<(Device Device, string Secret)>(count);
            var ids = new HashSet<string>(StringComparer.Ordinal);
            while (batch.Count < count)
            {
                var id = NewUnreservedDeviceId();
                if (ids.Add(id))
                {
                    batch.Add(await NewDeviceAsync(id, labels, cancellationToken).ConfigureAwait(false));
                }
            }

            try
            {
                await devices.CreateAsync(batch.ConvertAll(b => b.Device), cancellationToken).ConfigureAwait(false);
                Changed();
            }
            catch (DuplicateDeviceException) when (attempt < 3)
            {
                // 48 random bits make a clash with an existing device rare; draw the batch again.
                continue;
            }

            await AuditAsync(null, actor, AuditEventTypes.DeviceCreated, $"Batch of {count} devices.", cancellationToken).ConfigureAwait(false);
            return batch.ConvertAll(b => new CreatedDevice(b.Device.DeviceId, b.Secret, b.Device.Hostname, b.Device.Status, b.Device.CreatedAt));
        }
    }

    public async Task<Page<DeviceSummary>> ListDevicesAsync(DeviceQuery query, CancellationToken cancellationToken)
    {
        // The total is counted apart and kept in proportion to its cost (a million rows take a quarter of a second on
        // PostgreSQL: not on every page); the page itself is always read.
        var filter = (query.Status, string.IsNullOrWhiteSpace(query.Search) ? null : query.Search.Trim().ToLowerInvariant(), query.FactorySecret, query.NameResolution);
        var total = await countCache.GetAsync(filter, c => devices.CountAsync(query, c), cancellationToken).ConfigureAwait(false);
        var page = await devices.ListAsync(query with { CountTotal = false }, cancellationToken).ConfigureAwait(false);
        var ids = page.Items.Where(d => d.CurrentCertificateId is not null).Select(d => d.CurrentCertificateId!.Value).ToList();
        var current = ids.Count == 0 ? new Dictionary<Guid, DeviceCertificate>() : await certificates.FindManyAsync(ids, cancellationToken).ConfigureAwait(false);
        var items = page.Items
            .Select(d => new DeviceSummary(d, d.CurrentCertificateId is { } id ? current.GetValueOrDefault(id) : null))
            .ToList();
        return new Page<DeviceSummary>(items, total, page.PageNumber, page.PageSize);
    }

    public async Task<DeviceDetails?> GetDeviceAsync(string deviceId, CancellationToken cancellationToken)
    {
        var device = await devices.FindAsync(deviceId, cancellationToken).ConfigureAwait(false);
        if (device is null)
        {
            return null;
        }

        var history = await certificates.ListByDeviceAsync(deviceId, cancellationToken).ConfigureAwait(false);
        var recent = await events.ListAsync(deviceId, 1, RecentEventCount, cancellationToken).ConfigureAwait(false);
        return new DeviceDetails(device, history, recent.Items);
    }

    public async Task<bool> SetEnabledAsync(string deviceId, bool enabled, string actor, CancellationToken cancellationToken)
    {
        // Disabled devices' hostnames stop resolving (their address records are removed); enabling publishes them again.
        var changed = await UpdateAsync(deviceId, device =>
        {
            device.Status = enabled
                ? (device.RegisteredAt is null ? DeviceStatus.Pending : DeviceStatus.Active)
                : DeviceStatus.Disabled;
            addresses.MarkChanged(device);
            return Task.CompletedTask;
        }, cancellationToken).ConfigureAwait(false);

        if (changed is null)
        {
            return false;
        }

        Changed();
        await AuditAsync(deviceId, actor, enabled ? AuditEventTypes.DeviceEnabled : AuditEventTypes.DeviceDisabled, null, cancellationToken).ConfigureAwait(false);
        await addresses.PublishAsync(changed, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<string?> RotateSecretAsync(string deviceId, string actor, CancellationToken cancellationToken)
    {
        var secret = DeviceNames.NewSecret();
        var hash = await hasher.HashAsync(secret, cancellationToken).ConfigureAwait(false);
        var protectedSecret = DeviceAuthenticator.Protect(dataProtection, secret);
        var changed = await UpdateAsync(deviceId, device =>
        {
            device.SecretHash = hash;
            device.ProtectedSecret = protectedSecret;
            device.PendingSecretHash = null; // A secret the device asked for and never used is void too.
            device.PendingProtectedSecret = null;
            device.SecretOrigin = DeviceSecretOrigin.Factory;
            device.SecretChangedAt = time.GetUtcNow();
            return Task.CompletedTask;
        }, cancellationToken).ConfigureAwait(false);

        if (changed is null)
        {
            return null;
        }

        await AuditAsync(deviceId, actor, AuditEventTypes.SecretRotated, null, cancellationToken).ConfigureAwait(false);
        return secret;
    }

    public async Task<RevokeOutcome> RevokeCertificateAsync(string deviceId, string actor, CancellationToken cancellationToken)
    {
        var device = await devices.FindAsync(deviceId, cancellationToken).ConfigureAwait(false);
        return device is null ? RevokeOutcome.DeviceNotFound
            : device.CurrentCertificateId is { } id ? await RevokeAsync(device, id, actor, expiredToo: true, cancellationToken).ConfigureAwait(false)
            : RevokeOutcome.NoCertificate;
    }

    public async Task<RevokeOutcome> RevokeCertificateAsync(string deviceId, Guid certificateId, string actor, CancellationToken cancellationToken)
    {
        var device = await devices.FindAsync(deviceId, cancellationToken).ConfigureAwait(false);
        return device is null ? RevokeOutcome.DeviceNotFound : await RevokeAsync(device, certificateId, actor, expiredToo: false, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RevokeOutcome> RevokeAsync(Device device, Guid certificateId, string actor, bool expiredToo, CancellationToken cancellationToken)
    {
        var certificate = await certificates.FindAsync(certificateId, cancellationToken).ConfigureAwait(false);
        if (certificate is null || certificate.DeviceId != device.DeviceId || certificate.RevokedAt is not null || (!expiredToo && certificate.NotAfter <= time.GetUtcNow()))
        {
            return RevokeOutcome.NoCertificate;
        }

        if (!string.Equals(certificate.Issuer, issuer.Name, StringComparison.Ordinal))
        {
            return RevokeOutcome.IssuerMismatch;
        }

        // Revoke at the CA first: if that fails nothing local changes and the admin can retry.
        await issuer.RevokeAsync(certificate, cancellationToken).ConfigureAwait(false);
        certificate.RevokedAt = time.GetUtcNow();
        await certificates.UpdateAsync(certificate, cancellationToken).ConfigureAwait(false);
        await UpdateAsync(device.DeviceId, d =>
        {
            if (d.CurrentCertificateId == certificate.Id)
            {
                d.CurrentCertificateId = null;
                d.CurrentCertificateNotAfter = null;
            }

            return Task.CompletedTask;
        }, cancellationToken).ConfigureAwait(false);

        await AuditAsync(device.DeviceId, actor, AuditEventTypes.CertificateRevoked, $"Serial {certificate.SerialNumber}.", cancellationToken).ConfigureAwait(false);
        return RevokeOutcome.Revoked;
    }

    public async Task<bool> DeleteDeviceAsync(string deviceId, string actor, CancellationToken cancellationToken)
    {
        // A deleted device is retired: its still-valid certificates are revoked (at their CA, and kept in
        // the store for the private CA's revocation list) before the device goes.
        var now = time.GetUtcNow();
        foreach (var certificate in await certificates.ListByDeviceAsync(deviceId, cancellationToken).ConfigureAwait(false))
        {
            if (certificate.RevokedAt is not null || certificate.NotAfter <= now)
            {
                continue;
            }

            if (certificate.Issuer == issuer.Name)
            {
                await issuer.RevokeAsync(certificate, cancellationToken).ConfigureAwait(false);
            }

            certificate.RevokedAt = now;
            await certificates.UpdateAsync(certificate, cancellationToken).ConfigureAwait(false);
            await AuditAsync(deviceId, actor, AuditEventTypes.CertificateRevoked, $"Serial {certificate.SerialNumber} (device deleted).", cancellationToken).ConfigureAwait(false);
        }

        if (await devices.FindAsync(deviceId, cancellationToken).ConfigureAwait(false) is { } device)
        {
            await addresses.RemoveBeforeDeleteAsync(device, cancellationToken).ConfigureAwait(false);
        }

        if (!await devices.DeleteAsync(deviceId, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        Changed();
        await AuditAsync(deviceId, actor, AuditEventTypes.DeviceDeleted, null, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public Task<Page<AuditEvent>> ListEventsAsync(string? deviceId, int page, int pageSize, CancellationToken cancellationToken)
        => events.ListAsync(deviceId, page, pageSize, cancellationToken);

    public Task<FleetStatistics> GetStatisticsAsync(CancellationToken cancellationToken) => statisticsCache.GetAsync(ComputeStatisticsAsync, cancellationToken);

    /// <summary>This instance changed the fleet: its next listings and figures show it (other instances' in their time).</summary>
    private void Changed()
    {
        countCache.Clear();
        statisticsCache.Clear();
    }

    private async Task<FleetStatistics> ComputeStatisticsAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var byStatus = await devices.CountByStatusAsync(cancellationToken).ConfigureAwait(false);
        var in7 = await certificates.CountCurrentExpiringAsync(now.AddDays(7), cancellationToken).ConfigureAwait(false);
        var in30 = await certificates.CountCurrentExpiringAsync(now.AddDays(30), cancellationToken).ConfigureAwait(false);
        var byResolution = await devices.CountByNameResolutionAsync(cancellationToken).ConfigureAwait(false);
        var factorySecrets = await devices.CountAsync(new DeviceQuery { FactorySecret = true }, cancellationToken).ConfigureAwait(false);
        var earliest = await certificates.ListCurrentExpiringAsync(DateTimeOffset.UnixEpoch, now.AddYears(100), 1, cancellationToken).ConfigureAwait(false);
        return new FleetStatistics(byStatus, in7, in30)
        {
            DevicesByNameResolution = byResolution,
            DevicesWithFactorySecret = factorySecrets,
            EarliestCertificateExpiry = earliest is [var soonest, ..] ? soonest.NotAfter : null,
        };
    }

    private async Task<(Device Device, string Secret)> NewDeviceAsync(string deviceId, IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken)
    {
        var secret = DeviceNames.NewSecret();
        var device = new Device
        {
            DeviceId = deviceId,
            Hostname = DeviceNames.Hostname(deviceId, _options.BaseDomain),
            SecretHash = await hasher.HashAsync(secret, cancellationToken).ConfigureAwait(false),
            ProtectedSecret = DeviceAuthenticator.Protect(dataProtection, secret),
            Status = DeviceStatus.Pending,
            CreatedAt = time.GetUtcNow(),
            SecretChangedAt = time.GetUtcNow(),
            Labels = labels is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(labels, StringComparer.Ordinal),
        };
        return (device, secret);
    }

    private async Task<Device?> UpdateAsync(string deviceId, Func<Device, Task> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var device = await devices.FindAsync(deviceId, cancellationToken).ConfigureAwait(false);
            if (device is null)
            {
                return null;
            }

            await change(device).ConfigureAwait(false);
            try
            {
                await devices.UpdateAsync(device, cancellationToken).ConfigureAwait(false);
                return device;
            }
            catch (ConcurrencyConflictException) when (attempt < 5)
            {
            }
        }
    }

    private Task AuditAsync(string? deviceId, string actor, string type, string? details, CancellationToken cancellationToken)
        => events.AppendAsync(new AuditEvent { Timestamp = time.GetUtcNow(), DeviceId = deviceId, Actor = actor, Type = type, Details = details }, cancellationToken);

    private static void ValidateLabels(IReadOnlyDictionary<string, string>? labels)
    {
        if (labels is null)
        {
            return;
        }

        if (labels.Count > MaxLabels)
        {
            throw new DeviceValidationException($"At most {MaxLabels} labels are allowed.");
        }

        foreach (var (key, value) in labels)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Length > MaxLabelKeyLength)
            {
                throw new DeviceValidationException($"Label keys must be 1 to {MaxLabelKeyLength} characters.");
            }

            if (value is null || value.Length > MaxLabelValueLength)
            {
                throw new DeviceValidationException($"Label '{key}' must have a value of at most {MaxLabelValueLength} characters.");
            }
        }

        // Stores keep labels as JSON, where escaping can make a character six: check what will be stored.
        if (System.Text.Json.JsonSerializer.Serialize(labels).Length > MaxLabelsJsonLength)
        {
            throw new DeviceValidationException($"The labels are too large once stored: at most {MaxLabelsJsonLength} characters of JSON (quotes and non-ASCII letters count six times).");
        }
    }
}
