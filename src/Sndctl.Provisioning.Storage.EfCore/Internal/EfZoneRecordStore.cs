using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

internal sealed class EfZoneRecordStore<TContext>(TContext context) : IZoneRecordStore
    where TContext : DbContext
{
    private DbSet<ZoneRecord> Records => context.Set<ZoneRecord>();

    public async Task<IReadOnlyList<ZoneRecord>> ListAsync(CancellationToken cancellationToken)
        => await Records.AsNoTracking().OrderBy(r => r.Id).ToListAsync(cancellationToken).ConfigureAwait(false);

    // Through the name's index, one row at a time (a million records are never all objects at once).
    public IAsyncEnumerable<ZoneRecord> StreamByNameAsync(CancellationToken cancellationToken)
        => Records.AsNoTracking().OrderBy(r => r.Name).ThenBy(r => r.Id).AsAsyncEnumerable();

    public async Task<IReadOnlyList<ZoneRecord>> ListAsync(string name, CancellationToken cancellationToken)
        => await Records.AsNoTracking().Where(r => r.Name == name).OrderBy(r => r.Id).ToListAsync(cancellationToken).ConfigureAwait(false);

    public async Task<(int Count, long MaxId)> GetVersionAsync(CancellationToken cancellationToken)
    {
        // Two small statements (one aggregate query would log EF's First-without-OrderBy warning every second).
        // A change landing between them gives a pair of two states; the next check reads a settled pair, so a
        // change is noticed at the latest one interval later.
        var count = await Records.CountAsync(cancellationToken).ConfigureAwait(false);
        var maxId = await Records.MaxAsync(r => (long?)r.Id, cancellationToken).ConfigureAwait(false) ?? 0;
        return (count, maxId);
    }

    public async Task<long> AddAsync(ZoneRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await context.AddDetachedAsync(record, cancellationToken).ConfigureAwait(false);
        return record.Id;
    }

    public async Task<bool> RemoveAsync(long id, CancellationToken cancellationToken)
        => await Records.Where(r => r.Id == id).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false) > 0;

    public Task<int> RemoveAsync(string name, string type, string value, CancellationToken cancellationToken)
        => Records.Where(r => r.Name == name && r.Type == type && r.Value == value).ExecuteDeleteAsync(cancellationToken);

    public Task<(int Added, int Removed, long MaxAddedId)> ReplaceAsync(string name, IReadOnlyCollection<string> types, IReadOnlyList<ZoneRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        return ReplaceManyAsync([(name, records)], types, cancellationToken);
    }

    public async Task<(int Added, int Removed, long MaxAddedId)> ReplaceManyAsync(IReadOnlyList<(string Name, IReadOnlyList<ZoneRecord> Records)> changes, IReadOnlyCollection<string> types, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var names = changes.Select(c => c.Name).ToList();
        var existing = await Records.Where(r => names.Contains(r.Name) && types.Contains(r.Type)).ToListAsync(cancellationToken).ConfigureAwait(false);
        var byName = existing.ToLookup(r => r.Name, StringComparer.Ordinal);
        var remove = new List<ZoneRecord>();
        var add = new List<ZoneRecord>();
        foreach (var (name, records) in changes)
        {
            var there = byName[name].ToList();
            remove.AddRange(there.Where(e => !records.Any(r => r.Type == e.Type && r.Value == e.Value)));
            add.AddRange(records.Where(r => !there.Any(e => e.Type == r.Type && e.Value == r.Value)));
        }

        if (remove.Count == 0 && add.Count == 0)
        {
            Detach(existing);
            return (0, 0, 0);
        }

        // One SaveChanges for all of them: one transaction (a reader never sees half a set), one commit.
        Records.RemoveRange(remove);
        Records.AddRange(add);
        try
        {
            await SqliteWriteGate.SaveChangesGatedAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another instance removed one of them first: what is left is replaced on the next publication.
            throw new ConcurrencyConflictException($"The address records of {string.Join(", ", names)} changed while they were replaced.");
        }
        finally
        {
            Detach(existing);
            Detach(add);
        }

        return (add.Count, remove.Count, add.Count == 0 ? 0 : add.Max(r => r.Id));
    }

    private void Detach(IEnumerable<ZoneRecord> records)
    {
        foreach (var record in records)
        {
            context.Entry(record).State = EntityState.Detached;
        }
    }
}
