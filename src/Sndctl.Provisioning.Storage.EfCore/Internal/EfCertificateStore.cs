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

    public async Task AddAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
    {
        Certificates.Add(certificate);
        try
        {
            await context.SaveChangesAsync(cancellationToken);
        }
        finally
        {
            context.Entry(certificate).State = EntityState.Detached;
        }
    }

    public async Task UpdateAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
    {
        var entry = context.Update(certificate);
        entry.Property(c => c.ConcurrencyStamp).OriginalValue = certificate.ConcurrencyStamp;
        entry.Property(c => c.ConcurrencyStamp).CurrentValue = Guid.NewGuid();
        try
        {
            await context.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException ex)
        {
            throw new ConcurrencyConflictException($"Certificate {certificate.SerialNumber} was changed by someone else.", ex);
        }
        finally
        {
            entry.State = EntityState.Detached;
        }
    }

    public Task<int> CountCurrentExpiringAsync(DateTimeOffset before, CancellationToken cancellationToken)
        => context.Set<Device>()
            .Where(d => d.CurrentCertificateId != null)
            .Join(Certificates, d => d.CurrentCertificateId, c => c.Id, (d, c) => c)
            .CountAsync(c => c.RevokedAt == null && c.NotAfter < before, cancellationToken);
}
