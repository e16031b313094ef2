namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Results computed by one caller at a time and kept for a while in proportion to what they cost: a small fleet's are
/// read fresh on every call, a million devices' (hundreds of milliseconds to seconds of counting) at most once a minute
/// per instance, however often the portal, the API and the jobs ask (docs/benchmarks.md, scale). At most
/// <see cref="MaxEntries"/> keys are kept (the oldest goes first): callers cannot grow it without bound.
/// </summary>
internal class CostProportionalCache<TKey, TValue>(TimeProvider time) : IDisposable
    where TKey : notnull
{
    /// <summary>Kept this many times as long as they took to compute...</summary>
    private const int KeepFactor = 30;

    /// <summary>...but only when they took at least this long (a small fleet's results are always current)...</summary>
    private static readonly TimeSpan CheapBelow = TimeSpan.FromMilliseconds(100);

    /// <summary>...and never longer than this.</summary>
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    /// <summary>The most keys kept at once.</summary>
    public const int MaxEntries = 64;

    private readonly SemaphoreSlim _computing = new(1, 1);
    private readonly Dictionary<TKey, (TValue Value, long ComputedAt, TimeSpan KeepFor)> _kept = [];
    private readonly Lock _lock = new();

    public async Task<TValue> GetAsync(TKey key, Func<CancellationToken, Task<TValue>> compute, CancellationToken cancellationToken)
    {
        if (TryFresh(key, out var kept))
        {
            return kept;
        }

        await _computing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (TryFresh(key, out var computedMeanwhile))
            {
                return computedMeanwhile;
            }

            var started = time.GetTimestamp();
            var value = await compute(cancellationToken).ConfigureAwait(false);
            var cost = time.GetElapsedTime(started);
            lock (_lock)
            {
                if (cost < CheapBelow)
                {
                    _kept.Remove(key);
                }
                else
                {
                    if (_kept.Count >= MaxEntries && !_kept.ContainsKey(key))
                    {
                        _kept.Remove(_kept.MinBy(e => e.Value.ComputedAt).Key);
                    }

                    _kept[key] = (value, time.GetTimestamp(), TimeSpan.FromTicks(Math.Min(MaxAge.Ticks, cost.Ticks * KeepFactor)));
                }
            }

            return value;
        }
        finally
        {
            _computing.Release();
        }
    }

    /// <summary>Forgets every kept result (after a change this instance made, which its next reads should show).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _kept.Clear();
        }
    }

    /// <summary>How many results are kept (expired ones included until replaced or pushed out).</summary>
    internal int KeptCount
    {
        get
        {
            lock (_lock)
            {
                return _kept.Count;
            }
        }
    }

    public void Dispose() => _computing.Dispose();

    private bool TryFresh(TKey key, out TValue value)
    {
        lock (_lock)
        {
            if (_kept.TryGetValue(key, out var entry) && time.GetElapsedTime(entry.ComputedAt) < entry.KeepFor)
            {
                value = entry.Value;
                return true;
            }
        }

        value = default!;
        return false;
    }
}

/// <summary>The fleet's figures (<see cref="FleetStatistics"/>), kept in proportion to their cost.</summary>
internal sealed class FleetStatisticsCache(TimeProvider time) : CostProportionalCache<bool, FleetStatistics>(time)
{
    public Task<FleetStatistics> GetAsync(Func<CancellationToken, Task<FleetStatistics>> compute, CancellationToken cancellationToken)
        => GetAsync(true, compute, cancellationToken);
}

/// <summary>
/// How many devices a listing's filter matches (the <c>total</c> of <c>GET /api/admin/devices</c>), kept in proportion
/// to the count's cost: exact while counting is cheap; an exact count of a million rows (a quarter of a second on
/// PostgreSQL) at most once per 30 times its cost, so that paging through a large fleet does not count it on every page.
/// </summary>
internal sealed class DeviceCountCache(TimeProvider time)
    : CostProportionalCache<(DeviceStatus? Status, string? Search, bool? FactorySecret, DeviceNameResolution? NameResolution), int>(time);
