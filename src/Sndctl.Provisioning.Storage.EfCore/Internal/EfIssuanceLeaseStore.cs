using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

internal sealed class EfIssuanceLeaseStore<TContext>(TContext context) : IIssuanceLeaseStore
    where TContext : DbContext
{
    private DbSet<IssuanceLease> Leases => context.Set<IssuanceLease>();

    public async Task<bool> TryAcquireAsync(string deviceId, string holder, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        // Take over a lease that is ours or has expired, in one conditional statement.
        var taken = await Leases
            .Where(l => l.DeviceId == deviceId && (l.Holder == holder || l.ExpiresAt <= now))
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Holder, holder).SetProperty(l => l.ExpiresAt, expiresAt), cancellationToken);
        if (taken == 1)
        {
            return true;
        }

        if (await Leases.AnyAsync(l => l.DeviceId == deviceId, cancellationToken))
        {
            return false;
        }

        var lease = new IssuanceLease { DeviceId = deviceId, Holder = holder, ExpiresAt = expiresAt };
        Leases.Add(lease);
        try
        {
            await context.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another instance inserted the lease between our two statements.
            return false;
        }
        finally
        {
            context.Entry(lease).State = EntityState.Detached;
        }
    }

    public Task ReleaseAsync(string deviceId, string holder, CancellationToken cancellationToken)
        => Leases.Where(l => l.DeviceId == deviceId && l.Holder == holder).ExecuteDeleteAsync(cancellationToken);
}
