using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Sndctl.Provisioning.Host.Data;

namespace Sndctl.Provisioning.Host;

/// <summary>
/// <c>copy-storage --to-provider PostgreSql --to-connection CS</c>: copies everything this configuration's database
/// holds (devices, certificates, the CA, the key ring, journals, audit trail: every table of the model but the derived
/// device counts, which the target keeps itself) into another
/// database, which is migrated first and must be empty. The source is only read, inside one transaction (a
/// consistent snapshot, so the server may keep running; what it writes afterwards is not copied). Every table's row
/// count is compared at the end. Exit codes: 0 copied and verified, 3 refused or the counts differ.
/// </summary>
internal static class StorageCopy
{
    private const int BatchSize = 1_000;
    private static readonly MethodInfo s_copyTable = typeof(StorageCopy).GetMethod(nameof(CopyTableAsync), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo s_countTable = typeof(StorageCopy).GetMethod(nameof(CountTableAsync), BindingFlags.NonPublic | BindingFlags.Static)!;

    public static async Task<int> RunAsync(WebApplication app, HostSettings settings, StorageKind toProvider, string toConnection)
    {
        if (toProvider == settings.Storage && string.Equals(toConnection, settings.ConnectionString, StringComparison.Ordinal))
        {
            await Console.Error.WriteLineAsync("The target is this configuration's own database; name another with --to-connection.");
            return 3;
        }

        await using var scope = app.Services.CreateAsyncScope();
        var source = scope.ServiceProvider.GetRequiredService<HostDbContext>();
        await using var target = Create(toProvider, toConnection);
        try
        {
            if ((await source.Database.GetPendingMigrationsAsync()).Any())
            {
                await Console.Error.WriteLineAsync("The source database is behind this version's schema: run `migrate` (or start the server once) before copying it.");
                return 3;
            }

            await target.Database.MigrateSerializedAsync();
            // Derived tables (the device counts) are not copied: the target's triggers count the devices as they arrive.
            var tables = source.Model.GetEntityTypes()
                .Where(t => t.GetTableName() is not null && !t.IsOwned() && t.FindAnnotation(ProvisioningModelBuilderExtensions.DerivedTableAnnotation) is null)
                .OrderBy(t => t.GetTableName(), StringComparer.Ordinal).ToList();
            foreach (var table in tables)
            {
                if (await CountAsync(target, table) > 0)
                {
                    await Console.Error.WriteLineAsync($"The target database is not empty ({table.GetTableName()} has rows); copy only into an empty one (nothing was changed).");
                    return 3;
                }
            }

            // One read transaction over the whole copy: a snapshot (SQLite in WAL mode and PostgreSQL both give one),
            // so rows that refer to each other (a certificate and its device) arrive together.
            await using var snapshot = await BeginSnapshotAsync(source);
            var counts = new List<(string Table, long Source, long Target)>();
            foreach (var table in tables)
            {
                var copied = await (Task<long>)s_copyTable.MakeGenericMethod(table.ClrType).Invoke(null, [source, target, table])!;
                counts.Add((table.GetTableName()!, copied, 0));
            }

            if (toProvider == StorageKind.PostgreSql)
            {
                await RestartIdentitiesAsync(target, tables);
            }

            var differing = 0;
            for (var i = 0; i < counts.Count; i++)
            {
                var (name, copied, _) = counts[i];
                var inSource = await CountAsync(source, tables[i]);
                var inTarget = await CountAsync(target, tables[i]);
                counts[i] = (name, inSource, inTarget);
                differing += inSource == inTarget && copied == inSource ? 0 : 1;
            }

            await snapshot.RollbackAsync();
            foreach (var (name, inSource, inTarget) in counts)
            {
                Console.WriteLine($"{name,-36} {inSource,10} -> {inTarget,10}{(inSource == inTarget ? string.Empty : "  DIFFERS")}");
            }

            if (differing > 0)
            {
                await Console.Error.WriteLineAsync($"{differing} table(s) differ after the copy; do not switch to the target.");
                return 3;
            }

            var keyRing = settings.Options.DataProtection.CertificateFile is { Length: > 0 } configured ? configured : Path.Combine(settings.DataDirectory, DataDirectory.KeyRingCertificateFile);
            Console.WriteLine($"Copied and verified {counts.Sum(c => c.Target)} rows in {counts.Count} tables. The source is unchanged. "
                + $"Start the server with Provisioning:Storage:Provider={toProvider}, this connection string, and Provisioning:DataProtection:CertificateFile={Path.GetFullPath(keyRing)} "
                + "(the key ring in the database is encrypted with that certificate).");
            return 0;
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or DbUpdateException or TimeoutException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"The copy stopped: {ex.GetBaseException().Message}. The source is unchanged; drop and recreate the target before trying again.");
            return 3;
        }
    }

    /// <summary>
    /// A read transaction: on SQLite a deferred one (BEGIN; its snapshot starts at the first read and takes no write
    /// lock, so the running server keeps writing), on PostgreSQL REPEATABLE READ.
    /// </summary>
    private static async Task<Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction> BeginSnapshotAsync(HostDbContext source)
    {
        if (source.Database.GetDbConnection() is not Microsoft.Data.Sqlite.SqliteConnection sqlite)
        {
            return await source.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        }

        await source.Database.OpenConnectionAsync();
        return (await source.Database.UseTransactionAsync(sqlite.BeginTransaction(deferred: true)))!;
    }

    private static HostDbContext Create(StorageKind provider, string connectionString) => provider switch
    {
        StorageKind.PostgreSql => new PostgreSqlHostDbContext(new DbContextOptionsBuilder<PostgreSqlHostDbContext>().UseNpgsql(connectionString).Options),
        _ => new SqliteHostDbContext(new DbContextOptionsBuilder<SqliteHostDbContext>().UseSqlite(connectionString).Options),
    };

    private static Task<long> CountAsync(HostDbContext context, IEntityType table)
        => (Task<long>)s_countTable.MakeGenericMethod(table.ClrType).Invoke(null, [context])!;

    private static Task<long> CountTableAsync<T>(HostDbContext context)
        where T : class => context.Set<T>().LongCountAsync();

    /// <summary>Streams one table from the source and inserts it into the target in batches (the target's change tracker cleared after each).</summary>
    private static async Task<long> CopyTableAsync<T>(HostDbContext source, HostDbContext target, IEntityType table)
        where T : class
    {
        if (table.GetProperties().FirstOrDefault(p => p.IsShadowProperty()) is { } shadow)
        {
            // Values outside the CLR object would not travel with it; a model change that adds one must extend the copy.
            throw new InvalidOperationException($"{table.GetTableName()}.{shadow.Name} is a shadow property, which copy-storage does not carry.");
        }

        var dates = table.GetProperties().Where(p => p.ClrType == typeof(DateTimeOffset) || p.ClrType == typeof(DateTimeOffset?)).Select(p => p.PropertyInfo).OfType<PropertyInfo>().ToArray();
        long copied = 0;
        var batch = 0;
        await foreach (var row in source.Set<T>().AsNoTracking().AsAsyncEnumerable())
        {
            foreach (var date in dates)
            {
                // PostgreSQL's timestamptz takes UTC only; SQLite gives back the offset that was written.
                if (date.GetValue(row) is DateTimeOffset value && value.Offset != TimeSpan.Zero)
                {
                    date.SetValue(row, value.ToUniversalTime());
                }
            }

            target.Add(row);
            copied++;
            if (++batch == BatchSize)
            {
                await target.SaveChangesAsync();
                target.ChangeTracker.Clear();
                batch = 0;
            }
        }

        await target.SaveChangesAsync();
        target.ChangeTracker.Clear();
        return copied;
    }

    /// <summary>Identity columns continue after the copied rows (explicit IDs do not advance PostgreSQL's sequences).</summary>
    private static async Task RestartIdentitiesAsync(HostDbContext target, IEnumerable<IEntityType> tables)
    {
        foreach (var table in tables)
        {
            var name = table.GetTableName()!;
            var store = StoreObjectIdentifier.Table(name, table.GetSchema());
            foreach (var key in table.FindPrimaryKey()!.Properties.Where(p => p.ValueGenerated == ValueGenerated.OnAdd && (p.ClrType == typeof(int) || p.ClrType == typeof(long))))
            {
                var column = key.GetColumnName(store)!;
                var quoted = table.GetSchema() is { } schema ? $"\"{schema}\".\"{name}\"" : $"\"{name}\"";
#pragma warning disable EF1002 // Names from the model, not from input.
                await target.Database.ExecuteSqlRawAsync(
                    $"SELECT setval(pg_get_serial_sequence('{quoted.Replace("'", "''", StringComparison.Ordinal)}', '{column}'), COALESCE((SELECT MAX(\"{column}\") FROM {quoted}), 0) + 1, false)");
#pragma warning restore EF1002
            }
        }
    }
}
