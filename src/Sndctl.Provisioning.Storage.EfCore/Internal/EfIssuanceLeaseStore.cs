using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// Issuance leases as rows, taken in one statement (an upsert that only overwrites a lease that is
/// ours or has expired) with expiry computed and compared by the database server's clock, so that
/// instances whose clocks disagree by minutes still exclude each other. The same statement renews the
/// lease for its holder (the heartbeat) and lets a restarted instance take over its previous
/// incarnation's leases (<see cref="IIssuanceLeaseStore"/>).
/// </summary>
internal sealed class EfIssuanceLeaseStore<TContext>(TContext context) : IIssuanceLeaseStore
    where TContext : DbContext
{
    private DbSet<IssuanceLease> Leases => context.Set<IssuanceLease>();

    public async Task<bool> TryAcquireAsync(string deviceId, string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        var (table, column) = SqlNames.Of<IssuanceLease>(context);
        var (id, holderColumn, expires) = (column(nameof(IssuanceLease.DeviceId)), column(nameof(IssuanceLease.Holder)), column(nameof(IssuanceLease.ExpiresAt)));
        // Identifiers come from the EF model (quoted); every value is a parameter.
        var (sql, interval) = context.Database.ProviderName switch
        {
            SqlNames.PostgreSqlProvider => (
                $$"""
                INSERT INTO {{table}} ({{id}}, {{holderColumn}}, {{expires}}) VALUES ({0}, {1}, now() + {2})
                ON CONFLICT ({{id}}) DO UPDATE SET {{holderColumn}} = excluded.{{holderColumn}}, {{expires}} = excluded.{{expires}}
                WHERE {{table}}.{{holderColumn}} = excluded.{{holderColumn}} OR {{table}}.{{expires}} <= now()
                   OR ({3} <> '' AND substr({{table}}.{{holderColumn}}, 1, length({3})) = {3})
                """,
                (object)duration),
            SqlNames.SqliteProvider => (
                // EF keeps SQLite date-times as 'yyyy-MM-dd HH:mm:ss.FFFFFFF' text, which strftime matches
                // and which orders correctly as text.
                $$"""
                INSERT INTO {{table}} ({{id}}, {{holderColumn}}, {{expires}}) VALUES ({0}, {1}, strftime('%Y-%m-%d %H:%M:%f', 'now', {2}))
                ON CONFLICT ({{id}}) DO UPDATE SET {{holderColumn}} = excluded.{{holderColumn}}, {{expires}} = excluded.{{expires}}
                WHERE {{table}}.{{holderColumn}} = excluded.{{holderColumn}} OR {{table}}.{{expires}} <= strftime('%Y-%m-%d %H:%M:%f', 'now')
                   OR ({3} <> '' AND substr({{table}}.{{holderColumn}}, 1, length({3})) = {3})
                """,
                "+" + duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " seconds"),
            var other => throw new NotSupportedException($"Issuance leases support SQLite and PostgreSQL, not '{other}'."),
        };
        // "instance#incarnation": the same instance under another incarnation is this one restarted.
        var instance = holder.LastIndexOf('#') is > 0 and var hash ? holder[..(hash + 1)] : string.Empty;
        var taken = await context.Database.ExecuteSqlRawAsync(sql, [deviceId, holder, interval, instance], cancellationToken).ConfigureAwait(false);
        return taken == 1;
    }

    public Task ReleaseAsync(string deviceId, string holder, CancellationToken cancellationToken)
        => Leases.Where(l => l.DeviceId == deviceId && l.Holder == holder).ExecuteDeleteAsync(cancellationToken);

    public async Task<int> PurgeExpiredAsync(TimeSpan expiredFor, CancellationToken cancellationToken)
    {
        var (table, column) = SqlNames.Of<IssuanceLease>(context);
        var expires = column(nameof(IssuanceLease.ExpiresAt));
        var (sql, interval) = context.Database.ProviderName switch
        {
            SqlNames.PostgreSqlProvider => ($"DELETE FROM {table} WHERE {expires} < now() - {{0}}", (object)expiredFor),
            SqlNames.SqliteProvider => (
                $"DELETE FROM {table} WHERE {expires} < strftime('%Y-%m-%d %H:%M:%f', 'now', {{0}})",
                "-" + expiredFor.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " seconds"),
            var other => throw new NotSupportedException($"Issuance leases support SQLite and PostgreSQL, not '{other}'."),
        };
        return await context.Database.ExecuteSqlRawAsync(sql, [interval], cancellationToken).ConfigureAwait(false);
    }
}
