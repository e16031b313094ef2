using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

internal sealed class EfCertificateStore<TContext>(TContext context) : ICertificateStore
    where TContext : DbContext
{
    // Compiled: read on every device call (the device's current certificate).
    private static readonly CompiledQuery<TContext, Guid, DeviceCertificate?> s_find = new(
        (db, id, _) => db.Set<DeviceCertificate>().AsNoTracking().FirstOrDefault(c => c.Id == id));

    private DbSet<DeviceCertificate> Certificates => context.Set<DeviceCertificate>();

    public Task<DeviceCertificate?> FindAsync(Guid id, CancellationToken cancellationToken)
        => s_find.ExecuteAsync(context, id, cancellationToken);

    public async Task<IReadOnlyDictionary<Guid, DeviceCertificate>> FindManyAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        var list = ids.ToList();
        return await Certificates.AsNoTracking().Where(c => list.Contains(c.Id)).ToDictionaryAsync(c => c.Id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DeviceCertificate>> ListByDeviceAsync(string deviceId, CancellationToken cancellationToken)
        => await Certificates.AsNoTracking()
            .Where(c => c.DeviceId == deviceId)
            .OrderByDescending(c => c.IssuedAt)
            .ToListAsync(cancellationToken).ConfigureAwait(false);

    public Task AddAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
        => context.AddDetachedAsync(certificate, cancellationToken);

    public Task UpdateAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
        => context.UpdateStampedAsync(certificate, c => c.ConcurrencyStamp, $"Certificate {certificate.SerialNumber} was changed by someone else.", cancellationToken);

    public async Task<IReadOnlyList<DeviceCertificate>> FindBySerialNumberAsync(string serialNumber, CancellationToken cancellationToken)
        => await Certificates.AsNoTracking().Where(c => c.SerialNumber == serialNumber).Take(16).ToListAsync(cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<DateTimeOffset>> ListEarlyReissuesAsync(string deviceId, DateTimeOffset since, CancellationToken cancellationToken)
        => await Certificates.AsNoTracking()
            .Where(c => c.DeviceId == deviceId && c.EarlyReissue && c.IssuedAt >= since)
            .OrderBy(c => c.IssuedAt)
            .Select(c => c.IssuedAt)
            .ToListAsync(cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<(string SerialNumber, DateTimeOffset RevokedAt)>> ListRevokedAsync(string issuer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var revoked = await Certificates.AsNoTracking()
            .Where(c => c.Issuer == issuer && c.RevokedAt != null && c.NotAfter > now)
            .Select(c => new { c.SerialNumber, c.RevokedAt })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. revoked.Select(r => (r.SerialNumber, r.RevokedAt!.Value))];
    }

    // The current certificate's end is kept on the device (with an index): a range of that index joined to the
    // certificates it names, not a join for every device of the fleet: the devices in range counted from that index
    // alone, less those whose current certificate was revoked (a crash between a revocation and the device's update
    // can leave one), found from the few revoked certificates (a partial index) through the device's key. Joining the
    // range to the certificates read every device row and certificate in it: 0.6-0.8 s a count at a million devices
    // on PostgreSQL (docs/benchmarks.md, scale).
    public async Task<int> CountCurrentExpiringAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var devices = context.Set<Device>();
        var inRange = await devices.CountAsync(d => d.CurrentCertificateNotAfter < before, cancellationToken).ConfigureAwait(false);
        // From the few revoked certificates (their partial index) to their devices: written as a join, SQLite (which keeps
        // no statistics here) went the other way, every device in range to its certificate (0.4-0.6 s at a million).
        var revoked = await Certificates
            .Where(c => c.RevokedAt != null)
            .CountAsync(c => devices.Any(d => d.DeviceId == c.DeviceId && d.CurrentCertificateId == c.Id && d.CurrentCertificateNotAfter < before), cancellationToken).ConfigureAwait(false);
        return inRange - revoked;
    }

    public Task<int> CountCurrentRenewalDueAsync(DateTimeOffset before, CancellationToken cancellationToken)
        => context.Set<Device>()
            .Where(d => d.CurrentCertificateId != null)
            .Join(Certificates, d => d.CurrentCertificateId, c => c.Id, (d, c) => c)
            .CountAsync(c => c.RevokedAt == null && c.RenewAfter < before, cancellationToken);

    public async Task<IReadOnlyList<DeviceCertificate>> ListCurrentExpiringAsync(DateTimeOffset after, DateTimeOffset through, int max, CancellationToken cancellationToken)
        => await context.Set<Device>()
            .Where(d => d.CurrentCertificateNotAfter > after && d.CurrentCertificateNotAfter <= through)
            .OrderBy(d => d.CurrentCertificateNotAfter)
            .Join(Certificates, d => d.CurrentCertificateId, c => c.Id, (d, c) => c)
            .Where(c => c.RevokedAt == null)
            .Take(max)
            .AsNoTracking()
            .ToListAsync(cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<DeviceCertificate>> ListRenewalDueAsync(DateTimeOffset now, DateTimeOffset seenSince, int max, CancellationToken cancellationToken)
        => await context.Set<Device>()
            .Where(d => d.CurrentCertificateId != null && d.Status == DeviceStatus.Active && d.LastSeenAt >= seenSince)
            .Join(Certificates, d => d.CurrentCertificateId, c => c.Id, (d, c) => c)
            .Where(c => c.RevokedAt == null && c.ProtectedPrivateKey != null && c.RenewAfter <= now && c.NotAfter > now)
            .OrderBy(c => c.RenewAfter)
            .Take(max)
            .AsNoTracking()
            .ToListAsync(cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<DeviceCertificate>> ListCurrentNotDueAsync(string issuer, DateTimeOffset now, (DateTimeOffset NotAfter, string DeviceId)? after, int max, CancellationToken cancellationToken)
    {
        var devices = context.Set<Device>().Where(d => d.CurrentCertificateNotAfter > now);
        if (after is var (notAfter, deviceId))
        {
            devices = devices.Where(d => d.CurrentCertificateNotAfter > notAfter || (d.CurrentCertificateNotAfter == notAfter && string.Compare(d.DeviceId, deviceId) > 0));
        }

        var current = from d in devices
                      join c in Certificates on d.CurrentCertificateId equals c.Id
                      where c.Issuer == issuer && c.RevokedAt == null && c.RenewAfter > now
                      orderby d.CurrentCertificateNotAfter, d.DeviceId
                      select c;
        return await current.Take(max).AsNoTracking().ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task SetRenewAfterAsync(Guid id, DateTimeOffset renewAfter, CancellationToken cancellationToken)
        => Certificates.Where(c => c.Id == id).ExecuteUpdateAsync(s => s.SetProperty(c => c.RenewAfter, renewAfter), cancellationToken);
}
