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
    // Compiled: every issuance peeks at its device's refusals.
    private static readonly CompiledQuery<TContext, string, long?> s_peek = new(
        (db, key, _) => db.Set<RateLimitCounter>().AsNoTracking().Where(c => c.Key == key).Select(c => (long?)c.TheoreticalArrival).FirstOrDefault());

    public async Task<TimeSpan?> TryAcquireAsync(string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);

        // Generic cell-rate algorithm: each permit pushes the cell's theoretical arrival time (TAT) one
        // interval on; a permit is free while TAT stays within one window of now.
        var interval = Interval(limit, window);
        var windowMs = (long)window.TotalMilliseconds;
        var nowMs = now.ToUnixTimeMilliseconds();
        var (table, column) = SqlNames.Of<RateLimitCounter>(context);
        var (keyColumn, tat) = (column(nameof(RateLimitCounter.Key)), column(nameof(RateLimitCounter.TheoreticalArrival)));
        var greatest = Greatest();
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

    public Task ReturnAsync(string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var interval = Interval(limit, window);
        return context.Set<RateLimitCounter>().Where(c => c.Key == key)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.TheoreticalArrival, c => c.TheoreticalArrival - interval), cancellationToken);
    }

    public async Task ExhaustAsync(string key, int limit, TimeSpan window, DateTimeOffset until, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);

        // The next permit frees at `until`: the TAT at which max(TAT, until) + interval - until equals the window.
        var target = until.ToUnixTimeMilliseconds() + (long)window.TotalMilliseconds - Interval(limit, window);
        var (table, column) = SqlNames.Of<RateLimitCounter>(context);
        var (keyColumn, tat) = (column(nameof(RateLimitCounter.Key)), column(nameof(RateLimitCounter.TheoreticalArrival)));
        var greatest = Greatest();
        var sql = $$"""
            INSERT INTO {{table}} ({{keyColumn}}, {{tat}}) VALUES ({0}, {1})
            ON CONFLICT ({{keyColumn}}) DO UPDATE SET {{tat}} = {{greatest}}({{table}}.{{tat}}, {1})
            """;
        await context.Database.ExecuteSqlRawAsync(sql, [key, target], cancellationToken).ConfigureAwait(false);
    }

    public async Task<(int Used, DateTimeOffset NextAt)> PeekAsync(string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var interval = Interval(limit, window);
        var nowMs = now.ToUnixTimeMilliseconds();
        var tat = await s_peek.ExecuteAsync(context, key, cancellationToken).ConfigureAwait(false);
        if (tat is not { } taken || taken <= nowMs)
        {
            return (0, now);
        }

        var used = (int)Math.Clamp((taken - nowMs + interval - 1) / interval, 0, limit);
        var next = taken + interval - (long)window.TotalMilliseconds;
        return (used, next <= nowMs ? now : DateTimeOffset.FromUnixTimeMilliseconds(next));
    }

    private static long Interval(int limit, TimeSpan window) => Math.Max(1, (long)(window.TotalMilliseconds / Math.Max(1, limit)));

    private string Greatest() => context.Database.ProviderName switch
    {
        SqlNames.PostgreSqlProvider => "GREATEST",
        SqlNames.SqliteProvider => "max",
        var other => throw new NotSupportedException($"Rate limits support SQLite and PostgreSQL, not '{other}'."),
    };

    public Task<int> PurgeAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        return context.Set<RateLimitCounter>().Where(c => c.TheoreticalArrival < nowMs).ExecuteDeleteAsync(cancellationToken);
    }
}
