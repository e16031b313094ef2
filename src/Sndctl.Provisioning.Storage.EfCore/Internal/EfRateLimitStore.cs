using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// Rate-limit cells as rows: one conditional upsert per attempt, so two instances racing for the last
/// permit cannot both get it. The times are the callers' (one clock per fleet is close enough for
/// per-minute limits, and tests can move it).
/// </summary>
internal sealed class EfRateLimitStore<TContext>(TContext context) : IRateLimitStore
    where TContext : DbContext
{
    public async Task<TimeSpan?> TryAcquireAsync(string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);

        // Generic cell-rate algorithm: each permit pushes the cell's theoretical arrival time (TAT) one
        // interval on; a permit is free while TAT stays within one window of now.
        var interval = Math.Max(1, (long)(window.TotalMilliseconds / limit));
        var windowMs = (long)window.TotalMilliseconds;
        var nowMs = now.ToUnixTimeMilliseconds();
        var (table, column) = SqlNames.Of<RateLimitCounter>(context);
        var (keyColumn, tat) = (column(nameof(RateLimitCounter.Key)), column(nameof(RateLimitCounter.TheoreticalArrival)));
        var greatest = context.Database.ProviderName switch
        {
            SqlNames.PostgreSqlProvider => "GREATEST",
            SqlNames.SqliteProvider => "max",
            var other => throw new NotSupportedException($"Rate limits support SQLite and PostgreSQL, not '{other}'."),
        };
        var sql = $$"""
            INSERT INTO {{table}} ({{keyColumn}}, {{tat}}) VALUES ({0}, {1} + {2})
            ON CONFLICT ({{keyColumn}}) DO UPDATE SET {{tat}} = {{greatest}}({{table}}.{{tat}}, {1}) + {2}
            WHERE {{greatest}}({{table}}.{{tat}}, {1}) + {2} - {1} <= {3}
            """;
        var taken = await context.Database.ExecuteSqlRawAsync(sql, [key, nowMs, interval, windowMs], cancellationToken).ConfigureAwait(false);
        if (taken == 1)
        {
            return null;
        }

        var current = await context.Set<RateLimitCounter>().AsNoTracking()
            .Where(c => c.Key == key).Select(c => c.TheoreticalArrival)
            .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        return TimeSpan.FromMilliseconds(Math.Max(1, current + interval - windowMs - nowMs));
    }

    public Task<int> PurgeAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        return context.Set<RateLimitCounter>().Where(c => c.TheoreticalArrival < nowMs).ExecuteDeleteAsync(cancellationToken);
    }
}
