using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

internal sealed class EfCertificateStore<TContext>(TContext context) : ICertificateStore
    where TContext : DbContext
{
    private DbSet<DeviceCertificate> Certificates => context.Set<DeviceCertificate>();

    public Task<DeviceCertificate?> FindAsync(Guid id, CancellationToken cancellationToken)
        => Certificates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, cancellationToken);

    public async Task<IReadOnlyDictionary<Guid, DeviceCertificate>> FindManyAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        var list = ids.ToList();
        return await Certificates.AsNoTracking().Where(c => list.Contains(c.Id)).ToDictionaryAsync(c => c.Id, cancellationToken);
    }

    public async Task<IReadOnlyList<DeviceCertificate>> ListByDeviceAsync(string deviceId, CancellationToken cancellationToken)
        => await Certificates.AsNoTracking()
            .Where(c => c.DeviceId == deviceId)
            .OrderByDescending(c => c.IssuedAt)
            .ToListAsync(cancellationToken);

    public Task AddAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
        => context.AddDetachedAsync(certificate, cancellationToken);

    public Task UpdateAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
        => context.UpdateStampedAsync(certificate, c => c.ConcurrencyStamp, $"Certificate {certificate.SerialNumber} was changed by someone else.", cancellationToken);

    public Task<int> CountCurrentExpiringAsync(DateTimeOffset before, CancellationToken cancellationToken)
        => context.Set<Device>()
            .Where(d => d.CurrentCertificateId != null)
            .Join(Certificates, d => d.CurrentCertificateId, c => c.Id, (d, c) => c)
            .CountAsync(c => c.RevokedAt == null && c.NotAfter < before, cancellationToken);
}
