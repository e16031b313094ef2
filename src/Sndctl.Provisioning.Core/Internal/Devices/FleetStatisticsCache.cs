namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// The fleet's figures, computed by one caller at a time and kept for a while in proportion to what they cost: a
/// small fleet's are read fresh on every call, a million devices' (seconds of counting) at most once a minute per
/// instance, however often the portal's dashboard, the API and the statistics job ask (docs/benchmarks.md, scale).
/// </summary>
internal sealed class FleetStatisticsCache(TimeProvider time) : IDisposable
{
    /// <summary>Kept this many times as long as they took to compute...</summary>
    private const int KeepFactor = 30;

    /// <summary>...but only when they took at least this long (the figures of a small fleet are always current)...</summary>
    private static readonly TimeSpan CheapBelow = TimeSpan.FromMilliseconds(100);

    /// <summary>...and never longer than this.</summary>
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    private readonly SemaphoreSlim _computing = new(1, 1);
    private (FleetStatistics Statistics, long ComputedAt, TimeSpan KeepFor)? _last;

    public async Task<FleetStatistics> GetAsync(Func<CancellationToken, Task<FleetStatistics>> compute, CancellationToken cancellationToken)
    {
        if (Fresh() is { } kept)
        {
            return kept;
        }

        await _computing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Fresh() is { } computedMeanwhile)
            {
                return computedMeanwhile;
            }

            var started = time.GetTimestamp();
            var statistics = await compute(cancellationToken).ConfigureAwait(false);
            var cost = time.GetElapsedTime(started);
            _last = (statistics, time.GetTimestamp(), cost < CheapBelow ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Min(MaxAge.Ticks, cost.Ticks * KeepFactor)));
            return statistics;
        }
        finally
        {
            _computing.Release();
        }
    }

    public void Dispose() => _computing.Dispose();

    private FleetStatistics? Fresh()
        => _last is { } last && time.GetElapsedTime(last.ComputedAt) < last.KeepFor ? last.Statistics : null;
}
