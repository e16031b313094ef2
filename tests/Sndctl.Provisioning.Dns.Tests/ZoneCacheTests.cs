using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Authoritative;
using Sndctl.Provisioning.Dns.Authoritative.Internal;

namespace Sndctl.Provisioning.Dns.Tests;

/// <summary>
/// How an instance notices what another instance wrote: the highest ID every interval (an addition), the count (a
/// removal alone) every interval while it is cheap and, when it is not, every 100 times its cost, at most a minute.
/// </summary>
public sealed class ZoneCacheTests
{
    private const string Zone = "devices.example.test";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_cheap_count_is_read_every_interval_and_notices_a_removal_at_once()
    {
        var store = new CountingZoneStore(_time, countCost: TimeSpan.Zero);
        var cache = Cache(store);
        var removed = store.Add("gone", "10.0.0.1");
        store.Add("kept", "10.0.0.2");
        await cache.RefreshAsync(TestContext.Current.CancellationToken); // the first read (what StartAsync does, without the loop)
        Assert.NotNull(cache.Current!.At("gone." + Zone));

        await store.RemoveAsync(removed, default);
        _time.Advance(TimeSpan.FromSeconds(1));
        await cache.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Null(cache.Current!.At("gone." + Zone));
        Assert.Equal(1, store.Counts);
    }

    [Fact]
    public async Task An_expensive_count_is_read_every_hundred_times_its_cost_while_the_highest_ID_notices_an_addition_at_once()
    {
        var store = new CountingZoneStore(_time, countCost: TimeSpan.FromMilliseconds(200)); // 100 x 200 ms: every 20 s
        var cache = Cache(store);
        var removed = store.Add("gone", "10.0.0.1");
        await cache.RefreshAsync(TestContext.Current.CancellationToken); // the first read (what StartAsync does, without the loop)
        await cache.RefreshAsync(TestContext.Current.CancellationToken); // the first check counts
        Assert.Equal(1, store.Counts);

        // Another instance adds a record: the next check's highest ID notices it, without a count.
        _time.Advance(TimeSpan.FromSeconds(1));
        store.Add("new", "10.0.0.3");
        await cache.RefreshAsync(TestContext.Current.CancellationToken);
        Assert.NotNull(cache.Current!.At("new." + Zone));
        Assert.Equal(1, store.Counts);

        // A removal alone waits for the next count, 20 s after the last one.
        await store.RemoveAsync(removed, default);
        for (var second = 2; second < 20; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await cache.RefreshAsync(TestContext.Current.CancellationToken);
        }

        Assert.NotNull(cache.Current!.At("gone." + Zone));
        Assert.Equal(1, store.Counts);
        _time.Advance(TimeSpan.FromSeconds(1));
        await cache.RefreshAsync(TestContext.Current.CancellationToken);
        Assert.Null(cache.Current!.At("gone." + Zone));
        Assert.Equal(2, store.Counts);
    }

    [Fact]
    public async Task A_count_that_costs_seconds_is_still_read_once_a_minute()
    {
        var store = new CountingZoneStore(_time, countCost: TimeSpan.FromSeconds(2)); // 100 x 2 s would be 200 s
        var cache = Cache(store);
        await cache.RefreshAsync(TestContext.Current.CancellationToken); // the first read (what StartAsync does, without the loop)
        await cache.RefreshAsync(TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(59)); // a minute after the count ended is not over yet
        await cache.RefreshAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, store.Counts);

        _time.Advance(TimeSpan.FromSeconds(1));
        await cache.RefreshAsync(TestContext.Current.CancellationToken);
        Assert.Equal(2, store.Counts);
    }

    private ZoneCache Cache(CountingZoneStore store)
    {
        var services = new ServiceCollection().AddSingleton<IZoneRecordStore>(store).BuildServiceProvider();
        return new ZoneCache(
            services.GetRequiredService<IServiceScopeFactory>(),
            _time,
            Options.Create(new AuthoritativeDnsOptions()),
            Options.Create(new DeviceProvisioningOptions { BaseDomain = Zone }),
            NullLogger<ZoneCache>.Instance);
    }

    /// <summary>Records in memory; counting them costs <c>countCost</c> on the clock (a large zone's count).</summary>
    private sealed class CountingZoneStore(FakeTimeProvider time, TimeSpan countCost) : IZoneRecordStore
    {
        private readonly List<ZoneRecord> _records = [];
        private long _lastId;

        public int Counts { get; private set; }

        public long Add(string label, string address)
        {
            var record = new ZoneRecord { Id = ++_lastId, Name = label + "." + Zone, Type = "A", Value = address, CreatedAt = time.GetUtcNow() };
            _records.Add(record);
            return record.Id;
        }

        public Task<IReadOnlyList<ZoneRecord>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<ZoneRecord>>([.. _records]);

        public Task<IReadOnlyList<ZoneRecord>> ListAsync(string name, CancellationToken cancellationToken)
            => Task.FromResult<IReadOnlyList<ZoneRecord>>([.. _records.Where(r => r.Name == name)]);

        public Task<(int Count, long MaxId)> GetVersionAsync(CancellationToken cancellationToken)
        {
            Counts++;
            time.Advance(countCost);
            return Task.FromResult((_records.Count, _records.Count == 0 ? 0 : _records.Max(r => r.Id)));
        }

        public Task<long> GetMaxIdAsync(CancellationToken cancellationToken) => Task.FromResult(_records.Count == 0 ? 0 : _records.Max(r => r.Id));

        public Task<long> AddAsync(ZoneRecord record, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> RemoveAsync(long id, CancellationToken cancellationToken) => Task.FromResult(_records.RemoveAll(r => r.Id == id) > 0);

        public Task<int> RemoveAsync(string name, string type, string value, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<(int Added, int Removed, long MaxAddedId)> ReplaceAsync(string name, IReadOnlyCollection<string> types, IReadOnlyList<ZoneRecord> records, CancellationToken cancellationToken)
            => throw new NotSupportedException();
    }
}
