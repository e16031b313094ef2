using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

internal sealed class EfDeviceAcmeOrderStore<TContext>(TContext context) : IDeviceAcmeOrderStore
    where TContext : DbContext
{
    private DbSet<DeviceAcmeOrder> Orders => context.Set<DeviceAcmeOrder>();

    public Task AddAsync(DeviceAcmeOrder order, CancellationToken cancellationToken)
        => context.AddDetachedAsync(order, cancellationToken);

    public Task<DeviceAcmeOrder?> FindAsync(string id, CancellationToken cancellationToken)
        => Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, cancellationToken);

    public async Task<IReadOnlyList<DeviceAcmeOrder>> ListOpenAsync(string deviceId, DateTimeOffset now, CancellationToken cancellationToken)
        => await Orders.AsNoTracking()
            .Where(o => o.DeviceId == deviceId && (o.Status == DeviceAcmeOrderStatus.Ready || o.Status == DeviceAcmeOrderStatus.Processing) && o.Expires > now)
            .OrderBy(o => o.CreatedAt).ThenBy(o => o.Id)
            .ToListAsync(cancellationToken).ConfigureAwait(false);

    public async Task UpdateAsync(DeviceAcmeOrder order, CancellationToken cancellationToken)
        => order.ConcurrencyStamp = await context.UpdateStampedAsync(order, o => o.ConcurrencyStamp, $"ACME order {order.Id} was changed or deleted by someone else.", cancellationToken).ConfigureAwait(false);

    public Task<int> PurgeExpiredAsync(DateTimeOffset before, CancellationToken cancellationToken)
        => Orders.Where(o => o.Expires < before).ExecuteDeleteAsync(cancellationToken);
}
