using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

internal sealed class EfDeviceStore<TContext>(TContext context) : IDeviceStore
    where TContext : DbContext
{
    // The address path's one write (a device's addresses, their publication state and its change allowance), run for
    // every address report: a statement of our own with the model's mappings for its values.
    private static readonly OwnStatement s_addressUpdate = new(context =>
    {
        var entity = context.Model.FindEntityType(typeof(Device))!;
        string[] set = [nameof(Device.Addresses), nameof(Device.AddressRecordsPending), nameof(Device.AddressChangesRestoredAt), nameof(Device.ConcurrencyStamp)];
        var (table, column) = SqlNames.Of<Device>(context);
        var sql = $"UPDATE {table} SET {string.Join(", ", set.Select((name, i) => $"{column(name)} = @p{i}"))}"
            + $" WHERE {column(nameof(Device.DeviceId))} = @p4 AND {column(nameof(Device.ConcurrencyStamp))} = @p5";
        return new OwnStatement.Text(sql, [.. set.Append(nameof(Device.DeviceId)).Append(nameof(Device.ConcurrencyStamp)).Select(name => new OwnStatement.Parameter(entity.FindProperty(name)))]);
    });

    private static readonly OwnStatement s_insert = OwnStatement.Insert<Device>();
    private static readonly OwnStatement s_insertRows = OwnStatement.InsertRows<Device>(InsertRows);

    // Compiled: read on every device call, and EF would otherwise re-examine the expression tree each time.
    private static readonly CompiledQuery<TContext, string, Device?> s_find = new(
        (db, deviceId, _) => db.Set<Device>().AsNoTracking().FirstOrDefault(d => d.DeviceId == deviceId));

    private DbSet<Device> Devices => context.Set<Device>();

    public Task<Device?> FindAsync(string deviceId, CancellationToken cancellationToken)
        => s_find.ExecuteAsync(context, deviceId, cancellationToken);

    public async Task CreateAsync(IReadOnlyCollection<Device> devices, CancellationToken cancellationToken)
    {
        var ids = devices.Select(d => d.DeviceId).ToList();
        if (await Devices.AnyAsync(d => ids.Contains(d.DeviceId), cancellationToken).ConfigureAwait(false))
        {
            throw new DuplicateDeviceException(DuplicateMessage(devices.Count));
        }

        try
        {
            // In one transaction, InsertRows devices a statement (the rest one by one): no change tracker, and on SQLite
            // one statement journal per statement, not per device (a statement that may fire a trigger, the device
            // counts', keeps one: 75 µs a statement, which made seeding a fleet a third slower device by device).
            await OwnStatement.WriteAsync(
                context,
                transaction: true,
                async runner =>
                {
                    foreach (var chunk in devices.Chunk(InsertRows))
                    {
                        if (chunk.Length == InsertRows)
                        {
                            await runner.RunRowsAsync(s_insertRows, chunk, cancellationToken).ConfigureAwait(false);
                            continue;
                        }

                        foreach (var device in chunk)
                        {
                            await runner.RunAsync(s_insert, device, cancellationToken).ConfigureAwait(false);
                        }
                    }

                    return devices.Count;
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DbUpdateException or System.Data.Common.DbException)
        {
            // Lost a race with a concurrent insert of the same ID: report it as the duplicate it is.
            if (await Devices.AnyAsync(d => ids.Contains(d.DeviceId), cancellationToken).ConfigureAwait(false))
            {
                throw new DuplicateDeviceException(DuplicateMessage(devices.Count), ex);
            }

            throw;
        }
    }

    /// <summary>Devices one INSERT statement writes when a batch is created (their parameters stay far below SQLite's 32,766).</summary>
    private const int InsertRows = 50;

    /// <summary>Up to this many matches, a filter without an index in the sort's order is read through its own index first.</summary>
    private const int FewMatches = 2_000;

    public Task UpdateAsync(Device device, CancellationToken cancellationToken)
        => context.UpdateStampedAsync(device, d => d.ConcurrencyStamp, $"Device '{device.DeviceId}' was changed or deleted by someone else.", cancellationToken);

    // One UPDATE of four columns as a command of its own (no change tracking, no LINQ to translate each time): the
    // address path's only write. Its text and parameter mappings are made once per model.
    public async Task UpdateAddressesAsync(Device device, CancellationToken cancellationToken)
    {
        var next = Guid.NewGuid();
        var updated = await s_addressUpdate.ExecuteAsync(
            context, cancellationToken, device.Addresses, device.AddressRecordsPending, device.AddressChangesRestoredAt, next, device.DeviceId, device.ConcurrencyStamp).ConfigureAwait(false);
        if (updated == 0)
        {
            throw new ConcurrencyConflictException($"Device '{device.DeviceId}' was changed or deleted by someone else.");
        }

        device.ConcurrencyStamp = next;
    }

    public Task<bool> DeleteAsync(string deviceId, CancellationToken cancellationToken)
        => context.InTransactionAsync(
            async () =>
            {
                // Revoked certificates stay: their CA's revocation list is made from them.
                await context.Set<DeviceCertificate>().Where(c => c.DeviceId == deviceId && c.RevokedAt == null).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
                await context.Set<IssuanceLease>().Where(l => l.DeviceId == deviceId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
                // Its journalled DNS records stay: the janitor removes them from the zone (their lease is gone with the device).
                await context.Set<PendingIssuance>().Where(p => p.DeviceId == deviceId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
                // Its ACME front-door accounts and orders go with it: a deleted device's account key orders nothing.
                await context.Set<DeviceAcmeOrder>().Where(o => o.DeviceId == deviceId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
                await context.Set<DeviceAcmeAccount>().Where(a => a.DeviceId == deviceId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
                return await Devices.Where(d => d.DeviceId == deviceId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false) > 0;
            },
            cancellationToken);

    public async Task<int> CountAsync(DeviceQuery query, CancellationToken cancellationToken)
    {
        // Without a search, every filter is a cell of the counts the database keeps (when it keeps them).
        if (string.IsNullOrWhiteSpace(query.Search) && await DeviceCounts.ReadAsync(context, cancellationToken).ConfigureAwait(false) is { } cells)
        {
            return (int)cells.Where(c => (query.Status is null || c.Status == query.Status)
                && (query.FactorySecret is null || (c.SecretOrigin == DeviceSecretOrigin.Factory) == query.FactorySecret)
                && (query.NameResolution is null || c.NameResolution == query.NameResolution)).Sum(c => c.Count);
        }

        return await Filtered(query).CountAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<Page<Device>> ListAsync(DeviceQuery query, CancellationToken cancellationToken)
    {
        var devices = Filtered(query, ordered: true);
        if (OnlyNewDeviceFilters(query) && query.Status is null && string.IsNullOrWhiteSpace(query.Search) && query.Sort != DeviceSort.Created)
        {
            // A filter without an index in the sort's order (the factory secret, an unknown resolution: a new device's; the
            // other values have partial indexes in every order, and status has one per sort):
            // when it matches few devices, they are found through its index and ordered by themselves; read in the sort's
            // order and tested one by one, a filter that matches none of a million devices read all of them (1.8 s).
            var few = await devices.Select(d => d.DeviceId).Take(FewMatches + 1).ToListAsync(cancellationToken).ConfigureAwait(false);
            devices = few.Count <= FewMatches ? devices.Where(d => few.Contains(d.DeviceId)) : Filtered(query, filterIndexes: false, ordered: true);
        }

        var total = query.CountTotal ? await CountAsync(query, cancellationToken).ConfigureAwait(false) : -1;
        var skip = (query.Page - 1) * query.PageSize;
        var items = query.Sort switch
        {
            DeviceSort.Expiry => await PageNullsLastAsync(devices, d => d.CurrentCertificateNotAfter, query.Descending, skip, query.PageSize, cancellationToken).ConfigureAwait(false),
            DeviceSort.LastSeen => await PageNullsLastAsync(devices, d => d.LastSeenAt, query.Descending, skip, query.PageSize, cancellationToken).ConfigureAwait(false),
            _ => await Order(devices, query.Sort, query.Descending).Skip(skip).Take(query.PageSize).ToListAsync(cancellationToken).ConfigureAwait(false),
        };
        return new Page<Device>(items, total, query.Page, query.PageSize);
    }

    /// <param name="query">The filters.</param>
    /// <param name="filterIndexes">
    /// False: a new device's factory-secret and name-resolution tests are written so that no index answers them (a CASE), so the
    /// database reads the sort's index and tests each device, as it should for a filter that matches many: taking the
    /// filter's index, SQLite (which keeps no statistics here) read and sorted all of a million matches (0.8 s).
    /// </param>
    /// <param name="ordered">Whether the devices are read in the query's order (a page), not counted.</param>
    private IQueryable<Device> Filtered(DeviceQuery query, bool filterIndexes = true, bool ordered = false)
    {
        var devices = Devices.AsNoTracking();
        if (query.Status is { } status)
        {
            devices = (ordered ? query.Sort : DeviceSort.Created, status) switch
            {
                // By last seen or expiry: the active devices (most of a fleet) are read in that index's order and tested
                // one by one (through the status's own index they were all read and sorted: 0.7 s at a million); the others
                // through the partial indexes of devices that are not active, which SQLite uses only when the query names
                // their condition as they do.
                (DeviceSort.LastSeen or DeviceSort.Expiry, DeviceStatus.Active) => devices.Where(d => (d.Status == DeviceStatus.Active ? 1 : 0) == 1),
                (DeviceSort.LastSeen or DeviceSort.Expiry, _) => devices.Where(d => d.Status == status && d.Status != DeviceStatus.Active),
                _ => devices.Where(d => d.Status == status),
            };
        }

        if (query.FactorySecret is { } factory)
        {
            // An equality either way (the origin has two values): "!=" reads no index; a replaced secret also names the
            // partial indexes' condition.
            devices = (factory, filterIndexes) switch
            {
                (false, _) => devices.Where(d => d.SecretOrigin == DeviceSecretOrigin.Device && d.SecretOrigin != DeviceSecretOrigin.Factory),
                (true, true) => devices.Where(d => d.SecretOrigin == DeviceSecretOrigin.Factory),
                _ => devices.Where(d => (d.SecretOrigin == DeviceSecretOrigin.Factory ? 1 : 0) == 1),
            };
        }

        if (query.NameResolution is { } resolution)
        {
            devices = (resolution, filterIndexes) switch
            {
                (not DeviceNameResolution.Unknown, _) => devices.Where(d => d.NameResolution == resolution && d.NameResolution != DeviceNameResolution.Unknown),
                (_, true) => devices.Where(d => d.NameResolution == resolution),
                _ => devices.Where(d => (d.NameResolution == resolution ? 1 : 0) == 1),
            };
        }

        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            // A prefix of the hostname, which starts with the device ID: one column covers both, through its unique
            // index, so a million devices are searched in milliseconds, not a scan per keystroke (docs/benchmarks.md,
            // scale). The names that begin with the search sort from it up to it with its last character raised: a range on
            // the index under any collation (LIKE cannot use a case-sensitive index on SQLite, nor one outside the
            // "C" collation on PostgreSQL, whose linguistic collations keep the prefix test below exact).
            var search = query.Search.Trim().ToLowerInvariant();
            var upper = search[..^1] + (char)(search[^1] + 1);
            devices = devices.Where(d => string.Compare(d.Hostname, search) >= 0 && string.Compare(d.Hostname, upper) < 0);
            if (context.Database.ProviderName != "Microsoft.EntityFrameworkCore.Sqlite")
            {
                devices = devices.Where(d => d.Hostname.StartsWith(search));
            }
        }

        return devices;
    }

    /// <summary>
    /// Whether the query filters by factory secret or name resolution with a new device's values only (a factory secret,
    /// an unknown resolution), which have no index in every order (the other values do: partial indexes).
    /// </summary>
    private static bool OnlyNewDeviceFilters(DeviceQuery query)
        => (query.FactorySecret is not null || query.NameResolution is not null)
            && (query.FactorySecret is null or true) && (query.NameResolution is null or DeviceNameResolution.Unknown);

    private static IQueryable<Device> Order(IQueryable<Device> devices, DeviceSort sort, bool descending) => (sort, descending) switch
    {
        (DeviceSort.DeviceId, false) => devices.OrderBy(d => d.DeviceId),
        (DeviceSort.DeviceId, true) => devices.OrderByDescending(d => d.DeviceId),
        // Ties in the sort's direction: the (Status, DeviceId) index read forwards or backwards (a mixed order would sort
        // the whole of a status: 0.7 s at a million devices).
        (DeviceSort.Status, false) => devices.OrderBy(d => d.Status).ThenBy(d => d.DeviceId),
        (DeviceSort.Status, true) => devices.OrderByDescending(d => d.Status).ThenByDescending(d => d.DeviceId),
        (_, false) => devices.OrderBy(d => d.CreatedAt).ThenBy(d => d.DeviceId),
        _ => devices.OrderByDescending(d => d.CreatedAt).ThenBy(d => d.DeviceId),
    };

    /// <summary>
    /// A page in the order of a nullable column with the devices that have no value last, either way. Read as two
    /// runs, the devices with a value in the column's order and then those without in device-ID order, each of which
    /// an index (column, DeviceId) answers directly on SQLite and PostgreSQL alike (the providers put NULL at opposite
    /// ends, and "IS NULL" in an ORDER BY would make either sort the whole fleet: docs/benchmarks.md, scale).
    /// </summary>
    private static async Task<List<Device>> PageNullsLastAsync(
        IQueryable<Device> devices, Expression<Func<Device, DateTimeOffset?>> column, bool descending, int skip, int take, CancellationToken cancellationToken)
    {
        var hasValue = Expression.Lambda<Func<Device, bool>>(Expression.NotEqual(column.Body, Expression.Constant(null, typeof(DateTimeOffset?))), column.Parameters);
        var noValue = Expression.Lambda<Func<Device, bool>>(Expression.Equal(column.Body, Expression.Constant(null, typeof(DateTimeOffset?))), column.Parameters);
        var valued = devices.Where(hasValue);
        var ordered = descending ? valued.OrderByDescending(column) : valued.OrderBy(column);
        var items = await ordered.ThenBy(d => d.DeviceId).Skip(skip).Take(take).ToListAsync(cancellationToken).ConfigureAwait(false);
        if (items.Count == take)
        {
            return items;
        }

        // The run with values ended on this page (or before it): how many it has tells where the rest begins (none on
        // the first page: no count).
        var valuedCount = items.Count > 0 || skip == 0 ? skip + items.Count : await valued.CountAsync(cancellationToken).ConfigureAwait(false);
        items.AddRange(await devices.Where(noValue).OrderBy(d => d.DeviceId)
            .Skip(Math.Max(0, skip - valuedCount)).Take(take - items.Count)
            .ToListAsync(cancellationToken).ConfigureAwait(false));
        return items;
    }

    public async Task<IReadOnlyDictionary<DeviceNameResolution, int>> CountByNameResolutionAsync(CancellationToken cancellationToken)
    {
        if (await DeviceCounts.ReadAsync(context, cancellationToken).ConfigureAwait(false) is { } cells)
        {
            return Enum.GetValues<DeviceNameResolution>().ToDictionary(r => r, r => (int)cells.Where(c => c.NameResolution == r).Sum(c => c.Count));
        }

        var counts = await Devices
            .GroupBy(d => d.NameResolution)
            .Select(g => new { Resolution = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return Enum.GetValues<DeviceNameResolution>().ToDictionary(r => r, r => counts.FirstOrDefault(c => c.Resolution == r)?.Count ?? 0);
    }

    public async Task<IReadOnlyDictionary<DeviceStatus, int>> CountByStatusAsync(CancellationToken cancellationToken)
    {
        if (await DeviceCounts.ReadAsync(context, cancellationToken).ConfigureAwait(false) is { } cells)
        {
            return Enum.GetValues<DeviceStatus>().ToDictionary(s => s, s => (int)cells.Where(c => c.Status == s).Sum(c => c.Count));
        }

        var counts = await Devices
            .GroupBy(d => d.Status)
            .Select(g => new { Status = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return Enum.GetValues<DeviceStatus>().ToDictionary(s => s, s => counts.FirstOrDefault(c => c.Status == s)?.Count ?? 0);
    }

    public async Task<IReadOnlyList<Device>> ListAddressRecordsPendingAsync(int max, CancellationToken cancellationToken)
        => await Devices.AsNoTracking().Where(d => d.AddressRecordsPending).OrderBy(d => d.DeviceId).Take(max).ToListAsync(cancellationToken).ConfigureAwait(false);

    private static string DuplicateMessage(int count)
        => count == 1 ? "A device with this ID exists already." : "One of the device IDs exists already.";
}

internal static class DbContextExtensions
{
    /// <summary>Inserts one entity and stops tracking it.</summary>
    public static async Task AddDetachedAsync<T>(this DbContext context, T entity, CancellationToken cancellationToken)
        where T : class
    {
        context.Set<T>().Add(entity);
        try
        {
            await SqliteWriteGate.SaveChangesGatedAsync(context, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            context.Entry(entity).State = EntityState.Detached;
        }
    }

    /// <summary>
    /// Saves an entity read earlier only if its concurrency stamp is still the stored one, writing a
    /// new stamp; returns that stamp. Someone else's change first is a <see cref="ConcurrencyConflictException"/>.
    /// </summary>
    public static async Task<Guid> UpdateStampedAsync<T>(this DbContext context, T entity, System.Linq.Expressions.Expression<Func<T, Guid>> stamp, string conflict, CancellationToken cancellationToken)
        where T : class
    {
        var entry = context.Update(entity);
        var property = entry.Property(stamp);
        property.OriginalValue = property.CurrentValue;
        var next = Guid.NewGuid();
        property.CurrentValue = next;
        try
        {
            await SqliteWriteGate.SaveChangesGatedAsync(context, cancellationToken).ConfigureAwait(false);
            return next;
        }
        catch (DbUpdateConcurrencyException ex)
        {
            throw new ConcurrencyConflictException(conflict, ex);
        }
        finally
        {
            entry.State = EntityState.Detached;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in the caller's transaction when it has one (the caller commits), else in one of its
    /// own, committed when <paramref name="work"/> returns (rolled back if it throws).
    /// </summary>
    public static async Task<T> InTransactionAsync<T>(this DbContext context, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        if (context.Database.CurrentTransaction is not null)
        {
            return await work().ConfigureAwait(false);
        }

        var transaction = await context.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            var result = await work().ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
    }

    /// <summary>A command of its own on the context's connection, in its transaction if one is open (for the hot writes EF's pipeline would slow).</summary>
    public static System.Data.Common.DbCommand CreateCommand(this DbContext context)
    {
        var command = context.Database.GetDbConnection().CreateCommand();
        command.Transaction = context.Database.CurrentTransaction?.GetDbTransaction();
        return command;
    }

    /// <summary>Stops tracking entities this store added, so a host's shared context stays clean.</summary>
    public static void Detach<T>(this DbContext context, IEnumerable<T> entities)
        where T : class
    {
        foreach (var entity in entities)
        {
            context.Entry(entity).State = EntityState.Detached;
        }
    }
}
