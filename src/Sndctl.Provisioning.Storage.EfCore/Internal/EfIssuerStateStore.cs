using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

internal sealed class EfIssuerStateStore<TContext>(TContext context, TimeProvider time) : IIssuerStateStore
    where TContext : DbContext
{
    private DbSet<IssuerStateEntry> Entries => context.Set<IssuerStateEntry>();

    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken)
        => (await Entries.AsNoTracking().FirstOrDefaultAsync(e => e.Key == key, cancellationToken).ConfigureAwait(false))?.Value;

    public async Task<string> GetOrAddAsync(string key, string value, CancellationToken cancellationToken)
    {
        if (await GetAsync(key, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }

        var entry = new IssuerStateEntry { Key = key, Value = value, UpdatedAt = time.GetUtcNow() };
        Entries.Add(entry);
        try
        {
            await SqliteWriteGate.SaveChangesGatedAsync(context, cancellationToken).ConfigureAwait(false);
            return value;
        }
        catch (DbUpdateException)
        {
            context.Entry(entry).State = EntityState.Detached;

            // Another instance stored its value first; everyone uses that one.
            return await GetAsync(key, cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException($"Storing issuer state '{key}' failed.");
        }
        finally
        {
            context.Entry(entry).State = EntityState.Detached;
        }
    }

    public async Task SetAsync(string key, string value, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var updated = await Entries.Where(e => e.Key == key)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.Value, value).SetProperty(e => e.UpdatedAt, now), cancellationToken).ConfigureAwait(false);
        if (updated == 0)
        {
            await GetOrAddAsync(key, value, cancellationToken).ConfigureAwait(false);
        }
    }
}
