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

    [Fact]
    public async Task With_a_change_log_the_names_another_instance_changed_are_read_again_and_nothing_else()
    {
        var store = new LoggingZoneStore(_time);
        store.Replace("gone", "10.0.0.1");
        store.Replace("kept", "10.0.0.2");
        var cache = Cache(store);
        await cache.RefreshAsync(TestContext.Current.CancellationToken); // the first read (what StartAsync does, without the loop)
        var serial = cache.Current!.Serial;
        Assert.Equal((1, 2), (cache.FullReads, cache.Current.RecordCount));

        // Nothing changed: one read of the log, no records.
        _time.Advance(TimeSpan.FromSeconds(1));
        await cache.RefreshAsync(TestContext.Current.CancellationToken);
        Assert.Empty(store.NamesRead);
        Assert.Equal(serial, cache.Current.Serial);

        // Another instance removes one name's record, replaces another's and adds a third: those three are read, once.
        store.Replace("gone");
        store.Replace("kept", "10.0.0.3");
        store.Replace("new", "10.0.0.4", "fd00::4");
        _time.Advance(TimeSpan.FromSeconds(1));
        await cache.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Null(cache.Current.At("gone." + Zone));
        Assert.Equal(["10.0.0.3"], cache.Current.At("kept." + Zone)!.Addresses.Select(a => a.ToString()));
        Assert.Equal(["10.0.0.4", "fd00::4"], cache.Current.At("new." + Zone)!.Addresses.Select(a => a.ToString()));
        Assert.Equal(["gone." + Zone, "kept." + Zone, "new." + Zone], store.NamesRead.Order(StringComparer.Ordinal));
        Assert.Equal((1, 1, 3), (cache.FullReads, store.FullReads, cache.Current.RecordCount));
        Assert.True(cache.Current.Serial > serial);
    }

    [Fact]
    public async Task An_instance_that_could_not_read_the_log_for_most_of_its_retention_or_fell_far_behind_reads_the_whole_zone()
    {
        var store = new LoggingZoneStore(_time);
        var cache = Cache(store);
        await cache.RefreshAsync(TestContext.Current.CancellationToken);

        // The database is unreachable for eight minutes (the log keeps ten): entries may be gone, so the zone is read whole.
        store.Failing = true;
        store.Replace("during", "10.0.0.1");
        _time.Advance(TimeSpan.FromMinutes(8));
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => cache.RefreshAsync(TestContext.Current.CancellationToken));
        store.Failing = false;
        await cache.RefreshAsync(TestContext.Current.CancellationToken);
        Assert.Equal((2, 2), (cache.FullReads, store.FullReads));
        Assert.NotNull(cache.Current!.At("during." + Zone));

        // A backlog of more than 100,000 names is cheaper to read as a whole zone.
        store.Log([.. Enumerable.Range(0, 100_001).Select(i => $"d{i}.{Zone}")]);
        _time.Advance(TimeSpan.FromSeconds(1));
        await cache.RefreshAsync(TestContext.Current.CancellationToken);
        Assert.Equal(3, cache.FullReads);
        Assert.Empty(store.NamesRead);
    }

    [Fact]
    public async Task An_own_change_the_table_could_not_take_in_is_read_again_at_the_next_refresh()
    {
        var store = new LoggingZoneStore(_time);
        var cache = Cache(store);
        await cache.RefreshAsync(TestContext.Current.CancellationToken);

        // This instance writes a record, and reading it back fails: its own log entry is never handed back to it.
        store.FailNameReads = true;
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => cache.WriteAsync(
            "own." + Zone,
            () =>
            {
                store.ReplaceOwn("own", "10.0.0.7");
                return Task.FromResult((1, 0, 1L));
            },
            TestContext.Current.CancellationToken));
        Assert.Null(cache.Current!.At("own." + Zone));

        store.FailNameReads = false;
        _time.Advance(TimeSpan.FromSeconds(1));
        await cache.RefreshAsync(TestContext.Current.CancellationToken);
        Assert.Equal(["10.0.0.7"], cache.Current.At("own." + Zone)!.Addresses.Select(a => a.ToString()));
        Assert.Equal(1, cache.FullReads);
    }

    [Fact]
    public async Task The_retention_job_removes_the_change_log_s_entries_older_than_ten_minutes()
    {
        var store = new LoggingZoneStore(_time);
        store.Replace("old", "10.0.0.1");
        _time.Advance(TimeSpan.FromMinutes(9));
        store.Replace("recent", "10.0.0.2");
        _time.Advance(TimeSpan.FromMinutes(2));
        var job = new ZoneChangeRetentionJob(_time, NullLogger<ZoneChangeRetentionJob>.Instance);
        await job.RunAsync(new ServiceCollection().AddSingleton<IZoneRecordStore>(store).BuildServiceProvider(), TestContext.Current.CancellationToken);

        Assert.Equal([_time.GetUtcNow() - TimeSpan.FromMinutes(10)], store.RemovedBefore);
        Assert.Equal(1, store.LogLength);
        Assert.Equal(("zone-change-retention", TimeSpan.FromMinutes(1)), (job.Name, job.Interval));
    }

    private ZoneCache Cache(IZoneRecordStore store)
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

    /// <summary>
    /// Records in memory with a change log, as another instance writes them (<see cref="Replace"/>): what the cache reads
    /// is counted (whole-zone reads, names read again).
    /// </summary>
    private sealed class LoggingZoneStore(FakeTimeProvider time) : IZoneRecordStore
    {
        private readonly List<ZoneRecord> _records = [];
        private readonly List<(long Id, DateTimeOffset At, string[] Names)> _log = [];
        private long _lastId;
        private long _lastChange;

        public bool Failing { get; set; }

        public int FullReads { get; private set; }

        public List<string> NamesRead { get; } = [];

        public List<DateTimeOffset> RemovedBefore { get; } = [];

        /// <summary>Another instance makes the A/AAAA records at <paramref name="label"/> exactly <paramref name="addresses"/>.</summary>
        public void Replace(string label, params string[] addresses)
        {
            ReplaceOwn(label, addresses);
            Log([label + "." + Zone]);
        }

        /// <summary>The cache's own instance does (its log entries are not handed back to it).</summary>
        public void ReplaceOwn(string label, params string[] addresses)
        {
            var name = label + "." + Zone;
            _records.RemoveAll(r => r.Name == name);
            foreach (var address in addresses)
            {
                _records.Add(new ZoneRecord { Id = ++_lastId, Name = name, Type = address.Contains(':', StringComparison.Ordinal) ? "AAAA" : "A", Value = address, CreatedAt = time.GetUtcNow() });
            }
        }

        public void Log(string[] names) => _log.Add((++_lastChange, time.GetUtcNow(), names));

        public int LogLength => _log.Count;

        public Task<IReadOnlyList<ZoneRecord>> ListAsync(CancellationToken cancellationToken)
        {
            Check();
            FullReads++;
            return Task.FromResult<IReadOnlyList<ZoneRecord>>([.. _records]);
        }

        public bool FailNameReads { get; set; }

        public Task<IReadOnlyList<ZoneRecord>> ListAsync(string name, CancellationToken cancellationToken)
            => FailNameReads ? throw new InvalidOperationException("The read failed.") : Task.FromResult<IReadOnlyList<ZoneRecord>>([.. _records.Where(r => r.Name == name)]);

        public Task<IReadOnlyList<ZoneRecord>> ListAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken)
        {
            Check();
            NamesRead.AddRange(names);
            return Task.FromResult<IReadOnlyList<ZoneRecord>>([.. _records.Where(r => names.Contains(r.Name)).OrderBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Id)]);
        }

        public Task<long?> GetLastChangeAsync(CancellationToken cancellationToken)
        {
            Check();
            return Task.FromResult<long?>(_lastChange);
        }

        public Task<ZoneChanges> ListChangesAsync(long after, int limit, CancellationToken cancellationToken)
        {
            Check();
            NamesRead.Clear();
            var entries = _log.Where(e => e.Id > after).Take(limit).ToList();
            return Task.FromResult(new ZoneChanges([.. entries.SelectMany(e => e.Names).Distinct()], entries.Count == 0 ? after : entries[^1].Id, entries.Count == limit));
        }

        public Task<int> RemoveChangesAsync(DateTimeOffset before, CancellationToken cancellationToken)
        {
            RemovedBefore.Add(before);
            return Task.FromResult(_log.RemoveAll(e => e.At < before));
        }

        public Task<(int Count, long MaxId)> GetVersionAsync(CancellationToken cancellationToken) => throw new NotSupportedException("The log is read instead.");

        public Task<long> AddAsync(ZoneRecord record, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> RemoveAsync(long id, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<int> RemoveAsync(string name, string type, string value, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<(int Added, int Removed, long MaxAddedId)> ReplaceAsync(string name, IReadOnlyCollection<string> types, IReadOnlyList<ZoneRecord> records, CancellationToken cancellationToken)
            => throw new NotSupportedException();

        private void Check()
        {
            if (Failing)
            {
                throw new InvalidOperationException("The database cannot be reached.");
            }
        }
    }
}
