using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// The zone's records, and the log of their changes: every write also writes, in its transaction, one
/// <see cref="ZoneChange"/> entry naming the names it changed and this instance (<see cref="ZoneChangeSource"/>), so that
/// the other instances re-read those names only. On PostgreSQL the writers take one transaction-scoped advisory lock
/// first, so entries (and records) commit in the order of their IDs: a reader that saw ID n never later finds a new
/// entry below it (without the lock, a transaction that drew its ID first could commit after a later one).
/// </summary>
internal sealed class EfZoneRecordStore<TContext>(TContext context, ZoneChangeSource source, TimeProvider time) : IZoneRecordStore
    where TContext : DbContext
{
    private DbSet<ZoneRecord> Records => context.Set<ZoneRecord>();

    private DbSet<ZoneChange> Changes => context.Set<ZoneChange>();

    public async Task<IReadOnlyList<ZoneRecord>> ListAsync(CancellationToken cancellationToken)
        => await Records.AsNoTracking().OrderBy(r => r.Id).ToListAsync(cancellationToken).ConfigureAwait(false);

    // Through the name's index, one row at a time (a million records are never all objects at once).
    public IAsyncEnumerable<ZoneRecord> StreamByNameAsync(CancellationToken cancellationToken)
        => Records.AsNoTracking().OrderBy(r => r.Name).ThenBy(r => r.Id).AsAsyncEnumerable();

    public async Task<IReadOnlyList<ZoneRecord>> ListAsync(string name, CancellationToken cancellationToken)
        => await Records.AsNoTracking().Where(r => r.Name == name).OrderBy(r => r.Id).ToListAsync(cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<ZoneRecord>> ListAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(names);
        var records = new List<ZoneRecord>();
        foreach (var chunk in names.Distinct(StringComparer.Ordinal).Chunk(NamesPerRead))
        {
            records.AddRange(await Records.AsNoTracking().Where(r => chunk.Contains(r.Name)).ToListAsync(cancellationToken).ConfigureAwait(false));
        }

        records.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name) is var byName and not 0 ? byName : a.Id.CompareTo(b.Id));
        return records;
    }

    private const int NamesPerRead = 500;

    public async Task<long?> GetLastChangeAsync(CancellationToken cancellationToken)
        => await Changes.MaxAsync(c => (long?)c.Id, cancellationToken).ConfigureAwait(false) ?? 0;

    public async Task<ZoneChanges> ListChangesAsync(long after, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var mine = source.Value;
        var entries = await Changes.AsNoTracking()
            .Where(c => c.Id > after)
            .OrderBy(c => c.Id)
            .Take(limit)
            .Select(c => new { c.Id, Names = c.Source == mine ? null : c.Names })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (entry.Names is { } joined)
            {
                names.UnionWith(joined.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            }
        }

        return new ZoneChanges([.. names], entries.Count == 0 ? after : entries[^1].Id, entries.Count == limit);
    }

    public Task<int> RemoveChangesAsync(DateTimeOffset before, CancellationToken cancellationToken)
        => Changes.Where(c => c.ChangedAt < before).ExecuteDeleteAsync(cancellationToken);

    public async Task<(int Count, long MaxId)> GetVersionAsync(CancellationToken cancellationToken)
    {
        // Two small statements (one aggregate query would log EF's First-without-OrderBy warning every second).
        // A change landing between them gives a pair of two states; the next check reads a settled pair, so a
        // change is noticed at the latest one interval later.
        var count = await Records.CountAsync(cancellationToken).ConfigureAwait(false);
        var maxId = await Records.MaxAsync(r => (long?)r.Id, cancellationToken).ConfigureAwait(false) ?? 0;
        return (count, maxId);
    }

    public async Task<long> GetMaxIdAsync(CancellationToken cancellationToken)
        => await Records.MaxAsync(r => (long?)r.Id, cancellationToken).ConfigureAwait(false) ?? 0;

    public Task<long> AddAsync(ZoneRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return ChangeAsync<long>(
            async () =>
            {
                Records.Add(record);
                try
                {
                    await context.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    context.Entry(record).State = EntityState.Detached;
                }

                return (record.Id, (IReadOnlyCollection<string>)[record.Name]);
            },
            cancellationToken);
    }

    public Task<bool> RemoveAsync(long id, CancellationToken cancellationToken)
        => ChangeAsync<bool>(
            async () =>
            {
                var (table, column) = SqlNames.Of<ZoneRecord>(context);
                var delete = context.CreateCommand();
                await using (delete.ConfigureAwait(false))
                {
                    delete.CommandText = $"DELETE FROM {table} WHERE {column(nameof(ZoneRecord.Id))} = {Parameter(delete, "id", id)} RETURNING {column(nameof(ZoneRecord.Name))}";
                    var name = await delete.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
                    return (name is not null, name is null ? [] : (IReadOnlyCollection<string>)[name]);
                }
            },
            cancellationToken);

    public Task<int> RemoveAsync(string name, string type, string value, CancellationToken cancellationToken)
        => ChangeAsync<int>(
            async () =>
            {
                var removed = await Records.Where(r => r.Name == name && r.Type == type && r.Value == value).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
                return (removed, removed == 0 ? [] : (IReadOnlyCollection<string>)[name]);
            },
            cancellationToken);

    public Task<(int Added, int Removed, long MaxAddedId)> ReplaceAsync(string name, IReadOnlyCollection<string> types, IReadOnlyList<ZoneRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        return ReplaceManyAsync([(name, records)], types, cancellationToken);
    }

    public async Task<(int Added, int Removed, long MaxAddedId)> ReplaceManyAsync(IReadOnlyList<(string Name, IReadOnlyList<ZoneRecord> Records)> changes, IReadOnlyCollection<string> types, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var names = changes.Select(c => c.Name).ToList();
        var existing = await Records.AsNoTracking().Where(r => names.Contains(r.Name) && types.Contains(r.Type)).ToListAsync(cancellationToken).ConfigureAwait(false);
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
            return (0, 0, 0);
        }

        // One transaction for all of them (a reader never sees half a set), holding the file's write gate: the records
        // that go by ID, the new ones in one INSERT that returns their IDs. Two statements per batch (and the change
        // log's entry), not the change tracker's pipeline: this is every address change's write.
        var changed = new HashSet<string>(remove.Select(r => r.Name).Concat(add.Select(r => r.Name)), StringComparer.Ordinal);
        return await ChangeAsync<(int, int, long)>(
            async () =>
            {
                var (table, column) = SqlNames.Of<ZoneRecord>(context);
                if (remove.Count > 0)
                {
                    var delete = context.CreateCommand();
                    await using (delete.ConfigureAwait(false))
                    {
                        delete.CommandText = $"DELETE FROM {table} WHERE {column(nameof(ZoneRecord.Id))} IN ({string.Join(", ", remove.Select((r, i) => Parameter(delete, "r" + i, r.Id)))})";
                        if (await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != remove.Count)
                        {
                            // Another instance removed one of them first: what is left is replaced on the next publication.
                            throw new ConcurrencyConflictException($"The address records of {string.Join(", ", names)} changed while they were replaced.");
                        }
                    }
                }

                var maxId = 0L;
                if (add.Count > 0)
                {
                    var insert = context.CreateCommand();
                    await using (insert.ConfigureAwait(false))
                    {
                        var columns = string.Join(", ", new[] { nameof(ZoneRecord.Name), nameof(ZoneRecord.Type), nameof(ZoneRecord.Value), nameof(ZoneRecord.CreatedAt) }.Select(column));
                        var rows = add.Select((r, i) => $"({Parameter(insert, "n" + i, r.Name)}, {Parameter(insert, "t" + i, r.Type)}, {Parameter(insert, "v" + i, r.Value)}, {Parameter(insert, "c" + i, r.CreatedAt.UtcDateTime)})");
                        insert.CommandText = $"INSERT INTO {table} ({columns}) VALUES {string.Join(", ", rows)} RETURNING {column(nameof(ZoneRecord.Id))}";
                        var reader = await insert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                        await using (reader.ConfigureAwait(false))
                        {
                            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                            {
                                maxId = Math.Max(maxId, reader.GetInt64(0));
                            }
                        }
                    }
                }

                return ((add.Count, remove.Count, maxId), changed);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="write"/> in a transaction (the caller's if one is open) holding the file's write gate (SQLite)
    /// or the zone's advisory lock (PostgreSQL), and logs the names it changed in the same transaction.
    /// </summary>
    private Task<T> ChangeAsync<T>(Func<Task<(T Result, IReadOnlyCollection<string> Changed)>> write, CancellationToken cancellationToken)
        => SqliteWriteGate.WriteGatedAsync(
            context,
            () => context.InTransactionAsync(
                async () =>
                {
                    if (context.Database.ProviderName == SqlNames.PostgreSqlProvider)
                    {
                        var @lock = context.CreateCommand();
                        await using (@lock.ConfigureAwait(false))
                        {
                            @lock.CommandText = $"SELECT pg_advisory_xact_lock({Parameter(@lock, "key", LockKey(SqlNames.Of<ZoneChange>(context).Table))})";
                            await @lock.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }

                    var (result, changed) = await write().ConfigureAwait(false);
                    if (changed.Count > 0)
                    {
                        var (table, column) = SqlNames.Of<ZoneChange>(context);
                        var log = context.CreateCommand();
                        await using (log.ConfigureAwait(false))
                        {
                            var columns = string.Join(", ", new[] { nameof(ZoneChange.Source), nameof(ZoneChange.ChangedAt), nameof(ZoneChange.Names) }.Select(column));
                            log.CommandText = $"INSERT INTO {table} ({columns}) VALUES ({Parameter(log, "s", source.Value)}, {Parameter(log, "c", time.GetUtcNow().UtcDateTime)}, {Parameter(log, "n", string.Join('\n', changed))})";
                            await log.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }

                    return result;
                },
                cancellationToken),
            cancellationToken);

    /// <summary>The advisory lock's key on PostgreSQL: from the change log's table name (FNV-1a), so that two deployments with different table prefixes in one database do not wait for each other.</summary>
    private static long LockKey(string table)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in "sndctl-provisioning-zone:" + table)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    /// <summary>
    /// Adds a parameter to <paramref name="command"/> and returns its placeholder (both databases take <c>@name</c>). The
    /// values are strings, IDs and a UTC time, which both clients bind as EF does for these columns.
    /// </summary>
    private static string Parameter(System.Data.Common.DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@" + name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
        return parameter.ParameterName;
    }
}
