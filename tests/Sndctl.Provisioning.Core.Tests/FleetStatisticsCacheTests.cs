using Microsoft.Extensions.Time.Testing;
using Sndctl.Provisioning.Core.Internal;

namespace Sndctl.Provisioning.Core.Tests;

/// <summary>The fleet's figures: fresh while cheap, kept in proportion to their cost when they are not, computed by one caller at a time.</summary>
public sealed class FleetStatisticsCacheTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Cheap_figures_are_computed_on_every_call()
    {
        using var cache = new FleetStatisticsCache(_time);
        var computed = 0;

        for (var i = 0; i < 3; i++)
        {
            await cache.GetAsync(Compute(TimeSpan.FromMilliseconds(20), () => computed++), TestContext.Current.CancellationToken);
        }

        Assert.Equal(3, computed);
    }

    [Fact]
    public async Task Costly_figures_are_kept_thirty_times_their_cost_at_most_a_minute_and_computed_once_for_callers_at_once()
    {
        using var cache = new FleetStatisticsCache(_time);
        var computed = 0;
        var compute = Compute(TimeSpan.FromSeconds(1), () => computed++);

        // Callers at once: one computes, the others get its figures.
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => cache.GetAsync(compute, TestContext.Current.CancellationToken)));
        Assert.Equal(1, computed);

        _time.Advance(TimeSpan.FromSeconds(29));
        await cache.GetAsync(compute, TestContext.Current.CancellationToken);
        Assert.Equal(1, computed); // 1 s of counting is kept 30 s

        _time.Advance(TimeSpan.FromSeconds(2));
        await cache.GetAsync(compute, TestContext.Current.CancellationToken);
        Assert.Equal(2, computed);

        // 10 s of counting would be kept 300 s: a minute at most.
        var slow = Compute(TimeSpan.FromSeconds(10), () => computed++);
        _time.Advance(TimeSpan.FromSeconds(31));
        await cache.GetAsync(slow, TestContext.Current.CancellationToken);
        Assert.Equal(3, computed);
        _time.Advance(TimeSpan.FromSeconds(61));
        await cache.GetAsync(slow, TestContext.Current.CancellationToken);
        Assert.Equal(4, computed);
    }

    /// <summary>Figures whose computation takes <paramref name="cost"/> on the fake clock.</summary>
    private Func<CancellationToken, Task<FleetStatistics>> Compute(TimeSpan cost, Action counted) => async _ =>
    {
        await Task.Yield();
        counted();
        _time.Advance(cost);
        return new FleetStatistics(new Dictionary<DeviceStatus, int>(), 0, 0);
    };
}
