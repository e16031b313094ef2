using Microsoft.Extensions.Time.Testing;
using Sndctl.Provisioning.Core.Internal;

namespace Sndctl.Provisioning.Core.Tests;

/// <summary>The fleet's figures and the device listings' counts: fresh while cheap, kept in proportion to their cost when they are not, computed by one caller at a time.</summary>
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

    [Fact]
    public async Task Device_counts_are_kept_per_filter_at_most_sixty_four_and_forgotten_when_this_instance_changes_the_fleet()
    {
        using var cache = new DeviceCountCache(_time);
        var counted = 0;
        Func<CancellationToken, Task<int>> Count(int result) => async _ =>
        {
            await Task.Yield();
            counted++;
            _time.Advance(TimeSpan.FromMilliseconds(250)); // a million rows on PostgreSQL
            return result;
        };

        var all = ((DeviceStatus?)null, (string?)null, (bool?)null, (DeviceNameResolution?)null);
        var active = ((DeviceStatus?)DeviceStatus.Active, (string?)null, (bool?)null, (DeviceNameResolution?)null);
        Assert.Equal(1_000_000, await cache.GetAsync(all, Count(1_000_000), TestContext.Current.CancellationToken));
        Assert.Equal(600_000, await cache.GetAsync(active, Count(600_000), TestContext.Current.CancellationToken));
        Assert.Equal(1_000_000, await cache.GetAsync(all, Count(-1), TestContext.Current.CancellationToken)); // kept: 30 x 250 ms
        Assert.Equal(2, counted);

        cache.Clear();
        Assert.Equal(1_000_001, await cache.GetAsync(all, Count(1_000_001), TestContext.Current.CancellationToken));
        Assert.Equal(3, counted);

        // Searches typed by admins cannot grow it without bound: the oldest goes.
        for (var i = 0; i < 2 * DeviceCountCache.MaxEntries; i++)
        {
            await cache.GetAsync(((DeviceStatus?)null, $"s{i}", (bool?)null, (DeviceNameResolution?)null), Count(i), TestContext.Current.CancellationToken);
            Assert.InRange(cache.KeptCount, 1, DeviceCountCache.MaxEntries);
        }

        counted = 0;
        Assert.Equal(2 * DeviceCountCache.MaxEntries - 1, await cache.GetAsync(((DeviceStatus?)null, $"s{(2 * DeviceCountCache.MaxEntries) - 1}", (bool?)null, (DeviceNameResolution?)null), Count(-1), TestContext.Current.CancellationToken));
        Assert.Equal(0, counted); // the newest is kept
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
