using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

internal sealed class EfDeviceAcmeAccountStore<TContext>(TContext context) : IDeviceAcmeAccountStore
    where TContext : DbContext
{
    private DbSet<DeviceAcmeAccount> Accounts => context.Set<DeviceAcmeAccount>();

    public async Task<bool> AddAsync(DeviceAcmeAccount account, CancellationToken cancellationToken)
    {
        try
        {
            await context.AddDetachedAsync(account, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DbUpdateException)
        {
            // The key's account was made meanwhile (the unique index on the thumbprint), or the write failed.
            if (await Accounts.AnyAsync(a => a.KeyThumbprint == account.KeyThumbprint, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            throw;
        }
    }

    public Task<DeviceAcmeAccount?> FindAsync(string id, CancellationToken cancellationToken)
        => Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, cancellationToken);

    public Task<DeviceAcmeAccount?> FindByKeyAsync(string keyThumbprint, CancellationToken cancellationToken)
        => Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.KeyThumbprint == keyThumbprint, cancellationToken);

    public async Task<IReadOnlyList<DeviceAcmeAccount>> ListByDeviceAsync(string deviceId, CancellationToken cancellationToken)
        => await Accounts.AsNoTracking().Where(a => a.DeviceId == deviceId).OrderBy(a => a.CreatedAt).ThenBy(a => a.Id).ToListAsync(cancellationToken).ConfigureAwait(false);

    public async Task UpdateAsync(DeviceAcmeAccount account, CancellationToken cancellationToken)
    {
        try
        {
            account.ConcurrencyStamp = await context.UpdateStampedAsync(account, a => a.ConcurrencyStamp, $"ACME account {account.Id} was changed or deleted by someone else.", cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException ex) when (ex is not DbUpdateConcurrencyException)
        {
            throw new ConcurrencyConflictException($"Another ACME account has the key of account {account.Id}.", ex);
        }
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await context.Set<DeviceAcmeOrder>().Where(o => o.AccountId == id).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        return await Accounts.Where(a => a.Id == id).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false) > 0;
    }
}
