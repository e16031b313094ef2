using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// Issuance leases as rows, taken in one statement (an upsert that only overwrites a lease that is
/// ours or has expired) with expiry computed and compared by the database server's clock, so that
/// instances whose clocks disagree by minutes still exclude each other.
/// </summary>
internal sealed class EfIssuanceLeaseStore<TContext>(TContext context) : IIssuanceLeaseStore
    where TContext : DbContext
{
    private const string PostgreSqlProvider = "Npgsql.EntityFrameworkCore.PostgreSQL";
    private const string SqliteProvider = "Microsoft.EntityFrameworkCore.Sqlite";

    private DbSet<IssuanceLease> Leases => context.Set<IssuanceLease>();

    public async Task<bool> TryAcquireAsync(string deviceId, string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        var (table, id, holderColumn, expires) = Names();
        // Identifiers come from the EF model (quoted); every value is a parameter.
        var (sql, interval) = context.Database.ProviderName switch
        {
            PostgreSqlProvider => (
                $$"""
                INSERT INTO {{table}} ({{id}}, {{holderColumn}}, {{expires}}) VALUES ({0}, {1}, now() + {2})
                ON CONFLICT ({{id}}) DO UPDATE SET {{holderColumn}} = excluded.{{holderColumn}}, {{expires}} = excluded.{{expires}}
                WHERE {{table}}.{{holderColumn}} = excluded.{{holderColumn}} OR {{table}}.{{expires}} <= now()
                """,
                (object)duration),
            SqliteProvider => (
                // EF keeps SQLite date-times as 'yyyy-MM-dd HH:mm:ss.FFFFFFF' text, which strftime matches
                // and which orders correctly as text.
                $$"""
                INSERT INTO {{table}} ({{id}}, {{holderColumn}}, {{expires}}) VALUES ({0}, {1}, strftime('%Y-%m-%d %H:%M:%f', 'now', {2}))
                ON CONFLICT ({{id}}) DO UPDATE SET {{holderColumn}} = excluded.{{holderColumn}}, {{expires}} = excluded.{{expires}}
                WHERE {{table}}.{{holderColumn}} = excluded.{{holderColumn}} OR {{table}}.{{expires}} <= strftime('%Y-%m-%d %H:%M:%f', 'now')
                """,
                "+" + duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " seconds"),
            var other => throw new NotSupportedException($"Issuance leases support SQLite and PostgreSQL, not '{other}'."),
        };
        var taken = await context.Database.ExecuteSqlRawAsync(sql, [deviceId, holder, interval], cancellationToken).ConfigureAwait(false);
        return taken == 1;
    }

    public Task ReleaseAsync(string deviceId, string holder, CancellationToken cancellationToken)
        => Leases.Where(l => l.DeviceId == deviceId && l.Holder == holder).ExecuteDeleteAsync(cancellationToken);

    private (string Table, string Id, string Holder, string ExpiresAt) Names()
    {
        var entity = context.Model.FindEntityType(typeof(IssuanceLease))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        string Column(string property) => Quote(entity.FindProperty(property)!.GetColumnName(table)!);
        var qualified = entity.GetSchema() is { } schema ? Quote(schema) + "." + Quote(table.Name) : Quote(table.Name);
        return (qualified, Column(nameof(IssuanceLease.DeviceId)), Column(nameof(IssuanceLease.Holder)), Column(nameof(IssuanceLease.ExpiresAt)));
    }

    /// <summary>Quotes an identifier the way both supported databases accept.</summary>
    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
