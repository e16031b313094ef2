using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// One change to how many devices are in a cell (a status, a name resolution and a secret origin): +1 or -1 written by
/// the devices table's triggers, or a cell's sum once <see cref="DeviceCounts.CompactAsync"/> has folded the changes.
/// </summary>
internal sealed class DeviceCountEntry
{
    public long Id { get; set; }
    public required string Status { get; init; }
    public required string NameResolution { get; init; }
    public required string SecretOrigin { get; init; }
    public long Count { get; init; }
}

/// <summary>
/// The fleet's counts by status, name resolution and secret origin, kept by the database itself: triggers on the devices
/// table add a row of +1/-1 to <see cref="DeviceCountEntry"/>'s table in the same transaction as every insert, delete and
/// change of those columns, whatever wrote it (the stores, <c>ExecuteUpdate</c>, a restore, an operator's SQL). Only
/// rows are ever added (no two writers wait for one counter row, and no lock order between them can deadlock); the
/// <c>device-count-compaction</c> job folds them into one row per cell. Reading is a sum over a few dozen rows
/// (plus the changes since the last compaction) instead of a count over every device.
/// <para>
/// The triggers come from a migration (<see cref="Microsoft.EntityFrameworkCore.Migrations.ProvisioningMigrationBuilderExtensions.KeepProvisioningDeviceCounts"/>), which
/// also counts the devices already there and writes a marker row (<see cref="Marker"/>). A database without the marker
/// (created by <c>EnsureCreated</c>, or by a host's migrations that do not call it) is counted the old way.
/// </para>
/// </summary>
internal static class DeviceCounts
{
    /// <summary>The marker row's cell: its presence says the triggers keep the table.</summary>
    public const string Marker = "*";

    /// <summary>The changes folded at most per compaction (a bounded transaction; a larger backlog takes several runs).</summary>
    public const int CompactionBatch = 100_000;

    /// <summary>Fewer rows than this are left as they are (a compacted table holds one per cell: a few dozen).</summary>
    public const int FoldFrom = 256;

    /// <summary>One cell's devices.</summary>
    public sealed record Cell(DeviceStatus Status, DeviceNameResolution NameResolution, DeviceSecretOrigin SecretOrigin, long Count);

    /// <summary>Statements that install the triggers, then count the devices already there and write the marker.</summary>
    public static IReadOnlyList<string> Install(IReadOnlyModel model, string provider)
    {
        var (devices, counts, triggerName, function, d, c) = Names(model);
        string[] cell = [nameof(Device.Status), nameof(Device.NameResolution), nameof(Device.SecretOrigin)];
        var deviceCells = string.Join(", ", cell.Select(d));
        var countCells = string.Join(", ", cell.Select(c)) + ", " + c(nameof(DeviceCountEntry.Count));
        string Values(string row, int delta) => string.Join(", ", cell.Select(name => $"{row}.{d(name)}")) + ", " + delta.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var changed = string.Join(" OR ", cell.Select(name => provider == SqlNames.PostgreSqlProvider
            ? $"OLD.{d(name)} IS DISTINCT FROM NEW.{d(name)}"
            : $"OLD.{d(name)} IS NOT NEW.{d(name)}"));
        var statements = new List<string>();
        if (provider == SqlNames.PostgreSqlProvider)
        {
            statements.Add($"""
                CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body$
                BEGIN
                    IF TG_OP <> 'INSERT' THEN
                        INSERT INTO {counts} ({countCells}) VALUES ({Values("OLD", -1)});
                    END IF;
                    IF TG_OP <> 'DELETE' THEN
                        INSERT INTO {counts} ({countCells}) VALUES ({Values("NEW", 1)});
                    END IF;
                    RETURN NULL;
                END
                $body$
                """);
            statements.Add($"CREATE TRIGGER {triggerName("InsertDelete")} AFTER INSERT OR DELETE ON {devices} FOR EACH ROW EXECUTE FUNCTION {function}()");
            statements.Add($"CREATE TRIGGER {triggerName("Update")} AFTER UPDATE OF {deviceCells} ON {devices} FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {function}()");
        }
        else if (provider == SqlNames.SqliteProvider)
        {
            statements.Add($"CREATE TRIGGER {triggerName("Insert")} AFTER INSERT ON {devices} BEGIN INSERT INTO {counts} ({countCells}) VALUES ({Values("NEW", 1)}); END");
            statements.Add($"CREATE TRIGGER {triggerName("Delete")} AFTER DELETE ON {devices} BEGIN INSERT INTO {counts} ({countCells}) VALUES ({Values("OLD", -1)}); END");
            statements.Add($"CREATE TRIGGER {triggerName("Update")} AFTER UPDATE OF {deviceCells} ON {devices} WHEN {changed} "
                + $"BEGIN INSERT INTO {counts} ({countCells}) VALUES ({Values("OLD", -1)}); INSERT INTO {counts} ({countCells}) VALUES ({Values("NEW", 1)}); END");
        }
        else
        {
            throw new NotSupportedException($"Device counts are kept by triggers on SQLite and PostgreSQL; {provider} is neither (leave the migration out: the store counts devices instead).");
        }

        // After the triggers (on PostgreSQL CREATE TRIGGER locks the devices table against writes until the migration
        // commits): the count below and every change after it add up.
        statements.Add($"DELETE FROM {counts}");
        statements.Add($"INSERT INTO {counts} ({countCells}) SELECT {deviceCells}, COUNT(*) FROM {devices} GROUP BY {deviceCells}");
        statements.Add($"INSERT INTO {counts} ({countCells}) VALUES ('{Marker}', '{Marker}', '{Marker}', 0)");
        return statements;
    }

    /// <summary>Statements that remove the triggers and the counts (the store then counts devices again).</summary>
    public static IReadOnlyList<string> Uninstall(IReadOnlyModel model, string provider)
    {
        var (devices, counts, triggerName, function, _, _) = Names(model);
        return provider == SqlNames.PostgreSqlProvider
            ? [$"DROP TRIGGER IF EXISTS {triggerName("InsertDelete")} ON {devices}", $"DROP TRIGGER IF EXISTS {triggerName("Update")} ON {devices}", $"DROP FUNCTION IF EXISTS {function}()", $"DELETE FROM {counts}"]
            : [$"DROP TRIGGER IF EXISTS {triggerName("Insert")}", $"DROP TRIGGER IF EXISTS {triggerName("Delete")}", $"DROP TRIGGER IF EXISTS {triggerName("Update")}", $"DELETE FROM {counts}"];
    }

    /// <summary>The cells with devices, or null when the triggers do not keep the table (no marker).</summary>
    public static async Task<IReadOnlyList<Cell>?> ReadAsync(DbContext context, CancellationToken cancellationToken)
    {
        var (table, column) = SqlNames.Of<DeviceCountEntry>(context);
        var cells = CellColumns(column);
        var command = context.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = $"SELECT {cells}, SUM({column(nameof(DeviceCountEntry.Count))}) FROM {table} GROUP BY {cells}";
            await context.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var result = new List<Cell>();
                var marked = false;
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var status = reader.GetString(0);
                        if (status == Marker)
                        {
                            marked = true;
                        }
                        else if (Enum.TryParse<DeviceStatus>(status, out var s) && Enum.TryParse<DeviceNameResolution>(reader.GetString(1), out var r)
                            && Enum.TryParse<DeviceSecretOrigin>(reader.GetString(2), out var o))
                        {
                            result.Add(new Cell(s, r, o, Convert.ToInt64(reader.GetValue(3), System.Globalization.CultureInfo.InvariantCulture)));
                        }
                    }
                }

                return marked ? result : null;
            }
            finally
            {
                await context.Database.CloseConnectionAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Folds up to <see cref="CompactionBatch"/> of the oldest changes into one row per cell (cells that sum to nothing
    /// are left out, the marker stays); returns how many rows it folded (0 when there were too few to bother).
    /// </summary>
    public static Task<int> CompactAsync(DbContext context, CancellationToken cancellationToken)
    {
        var (table, column) = SqlNames.Of<DeviceCountEntry>(context);
        var id = column(nameof(DeviceCountEntry.Id));
        var count = column(nameof(DeviceCountEntry.Count));
        var cells = CellColumns(column);
        var keep = $"HAVING SUM({count}) <> 0 OR {column(nameof(DeviceCountEntry.Status))} = '{Marker}'";
        return SqliteWriteGate.WriteGatedAsync(
            context,
            () => context.InTransactionAsync(
                async () =>
                {
                    var bound = context.CreateCommand();
                    await using (bound.ConfigureAwait(false))
                    {
                        // The rows to fold: the oldest, up to a batch; none unless there are more than a compacted table holds.
                        bound.CommandText = $"SELECT COUNT(*), MAX({id}) FROM (SELECT {id} FROM {table} ORDER BY {id} LIMIT {CompactionBatch}) AS oldest";
                        long rows, last;
                        var reader = await bound.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                        await using (reader.ConfigureAwait(false))
                        {
                            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                            rows = Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture);
                            last = rows == 0 ? 0 : Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
                        }

                        if (rows < FoldFrom)
                        {
                            return 0;
                        }

                        var fold = context.CreateCommand();
                        await using (fold.ConfigureAwait(false))
                        {
                            var upTo = fold.CreateParameter();
                            upTo.ParameterName = "@last";
                            upTo.Value = last;
                            fold.Parameters.Add(upTo);
                            if (context.Database.ProviderName == SqlNames.PostgreSqlProvider)
                            {
                                // One statement: the rows it deletes are the rows it sums (a change committing meanwhile,
                                // with a lower ID, is neither deleted nor summed, and is folded next time).
                                fold.CommandText = $"WITH moved AS (DELETE FROM {table} WHERE {id} <= @last RETURNING {cells}, {count}) "
                                    + $"INSERT INTO {table} ({cells}, {count}) SELECT {cells}, SUM({count}) FROM moved GROUP BY {cells} {keep}";
                                await fold.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                            }
                            else
                            {
                                // SQLite has one writer: nothing commits between the two statements of this transaction.
                                fold.CommandText = $"INSERT INTO {table} ({cells}, {count}) SELECT {cells}, SUM({count}) FROM {table} WHERE {id} <= @last GROUP BY {cells} {keep}; "
                                    + $"DELETE FROM {table} WHERE {id} <= @last";
                                await fold.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                            }
                        }

                        return (int)rows;
                    }
                },
                cancellationToken),
            cancellationToken);
    }

    /// <summary>
    /// On PostgreSQL, rewrites the counts' table after a large fold (<c>VACUUM FULL</c>): the folded rows stay in its pages
    /// as dead rows, and every read of the counts scans them (2 million folded changes: 130 MB, 50-170 ms a read, and a
    /// plain vacuum cannot give the pages back while the sums sit at the table's end). The table then holds a few dozen
    /// rows, so the rewrite is short (210 ms after 2 million changes), though device writes wait for it.
    /// </summary>
    public static async Task VacuumAsync(DbContext context, CancellationToken cancellationToken)
    {
        if (context.Database.ProviderName == SqlNames.PostgreSqlProvider && context.Database.CurrentTransaction is null)
        {
            var (table, _) = SqlNames.Of<DeviceCountEntry>(context);
#pragma warning disable EF1003 // A name from the model, not from input.
            await context.Database.ExecuteSqlRawAsync("VACUUM FULL " + table, cancellationToken).ConfigureAwait(false);
#pragma warning restore EF1003
        }
    }

    /// <summary>The columns that name a cell, quoted and joined.</summary>
    private static string CellColumns(Func<string, string> column)
        => string.Join(", ", new[] { nameof(DeviceCountEntry.Status), nameof(DeviceCountEntry.NameResolution), nameof(DeviceCountEntry.SecretOrigin) }.Select(column));

    private static (string Devices, string Counts, Func<string, string> Trigger, string Function, Func<string, string> DeviceColumn, Func<string, string> CountColumn) Names(IReadOnlyModel model)
    {
        var (devices, d, _, _) = SqlNames.Named<Device>(model);
        var (counts, c, schema, name) = SqlNames.Named<DeviceCountEntry>(model);
        var prefix = schema is null ? string.Empty : SqlNames.Quote(schema) + ".";
        return (devices, counts, part => SqlNames.Quote(name + "_" + part), prefix + SqlNames.Quote(name + "_Keep"), d, c);
    }
}
