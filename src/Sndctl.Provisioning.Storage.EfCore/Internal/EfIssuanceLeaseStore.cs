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
    // Run at the start and end of every issuance: statements of our own, made once per model.
    private static readonly OwnStatement s_acquire = new(context =>
    {
        var (table, column) = SqlNames.Of<IssuanceLease>(context);
        var (id, holder, expires) = (column(nameof(IssuanceLease.DeviceId)), column(nameof(IssuanceLease.Holder)), column(nameof(IssuanceLease.ExpiresAt)));
        // @p0 device, @p1 holder, @p2 duration, @p3 the holder's instance prefix ("" for none).
        var sql = context.Database.ProviderName switch
        {
            SqlNames.PostgreSqlProvider => $"""
                INSERT INTO {table} ({id}, {holder}, {expires}) VALUES (@p0, @p1, now() + @p2)
                ON CONFLICT ({id}) DO UPDATE SET {holder} = excluded.{holder}, {expires} = excluded.{expires}
                WHERE {table}.{holder} = excluded.{holder} OR {table}.{expires} <= now()
                   OR (@p3 <> '' AND substr({table}.{holder}, 1, length(@p3)) = @p3)
                """,
            // EF keeps SQLite date-times as 'yyyy-MM-dd HH:mm:ss.FFFFFFF' text, which strftime matches and which orders
            // correctly as text.
            SqlNames.SqliteProvider => $"""
                INSERT INTO {table} ({id}, {holder}, {expires}) VALUES (@p0, @p1, strftime('%Y-%m-%d %H:%M:%f', 'now', @p2))
                ON CONFLICT ({id}) DO UPDATE SET {holder} = excluded.{holder}, {expires} = excluded.{expires}
                WHERE {table}.{holder} = excluded.{holder} OR {table}.{expires} <= strftime('%Y-%m-%d %H:%M:%f', 'now')
                   OR (@p3 <> '' AND substr({table}.{holder}, 1, length(@p3)) = @p3)
                """,
            var other => throw new NotSupportedException($"Issuance leases support SQLite and PostgreSQL, not '{other}'."),
        };
        return new OwnStatement.Text(sql, [default, default, default, default]);
    });

    private static readonly OwnStatement s_release = new(context =>
    {
        var (table, column) = SqlNames.Of<IssuanceLease>(context);
        return new OwnStatement.Text($"DELETE FROM {table} WHERE {column(nameof(IssuanceLease.DeviceId))} = @p0 AND {column(nameof(IssuanceLease.Holder))} = @p1", [default, default]);
    });

    public async Task<bool> TryAcquireAsync(string deviceId, string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        // Identifiers come from the EF model (quoted); every value is a parameter.
        object interval = context.Database.ProviderName == SqlNames.SqliteProvider
            ? "+" + duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " seconds"
            : duration;
        // "instance#incarnation": the same instance under another incarnation is this one restarted.
        var instance = holder.LastIndexOf('#') is > 0 and var hash ? holder[..(hash + 1)] : string.Empty;
        var taken = await s_acquire.ExecuteAsync(context, cancellationToken, deviceId, holder, interval, instance).ConfigureAwait(false);
        return taken == 1;
    }

    public Task ReleaseAsync(string deviceId, string holder, CancellationToken cancellationToken)
        => s_release.ExecuteAsync(context, cancellationToken, deviceId, holder);

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
