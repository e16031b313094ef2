using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// The zone as this instance answers it (<see cref="ZoneTable"/>): read whole from the database at start (before
/// the server listens, so that no query meets a zone still loading), changed in place by what this instance
/// writes (at once, from what it wrote: no read back), and kept up with what other instances write every
/// <see cref="AuthoritativeDnsOptions.RefreshInterval"/>: from the store's change log when it keeps one (the names they
/// changed are read again, nothing else: see <see cref="TakeChangesAsync"/>), else by comparing the store's version
/// and reading the whole zone when it moved (an addition at once, a removal alone at the next count, see
/// <see cref="UnchangedAsync"/>). While the database cannot be read, the last table keeps being served: DNS answers
/// outlive a database outage.
/// </summary>
internal sealed partial class ZoneCache(
    IServiceScopeFactory scopes,
    TimeProvider time,
    IOptions<AuthoritativeDnsOptions> options,
    IOptions<DeviceProvisioningOptions> provisioning,
    ILogger<ZoneCache> logger) : BackgroundService
{
    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile ZoneTable? _current;
    private long _checkedAtTicks;
    private DateTimeOffset _countDueAt;
    private const int CountCostFactor = 100;
    private static readonly TimeSpan MaxCountInterval = TimeSpan.FromMinutes(1);
    private bool _failing;
    private long? _changes;
    private DateTimeOffset _changesReadAt;
    private int _fullReads;
    private readonly HashSet<string> _reread = new(StringComparer.Ordinal);

    /// <summary>Change log entries read at a time.</summary>
    private const int ChangesPerRead = 1_000;

    /// <summary>Beyond this many names changed since the last read (a long outage of this instance), the whole zone is read instead.</summary>
    private const int MaxNamesToReread = 100_000;

    public ZoneTable? Current => _current;

    /// <summary>How many times the whole zone was read (at start, and after falling behind the change log or without one).</summary>
    public int FullReads => Volatile.Read(ref _fullReads);

    private string Zone => provisioning.Value.BaseDomain.TrimEnd('.').ToLowerInvariant();

    /// <summary>Reads the zone before the server starts listening; a database that cannot be read yet leaves it to the refresh loop.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            _failing = true;
            Log.ReadFailed(logger, ex);
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>When the database was last read successfully (a version check or a reload).</summary>
    public DateTimeOffset? CheckedAt => Interlocked.Read(ref _checkedAtTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Takes in what other instances changed since the last read (or reads the whole zone: see the class).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _reload.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var scope = scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var store = scope.ServiceProvider.GetRequiredService<IZoneRecordStore>();
                if (_current is { } current)
                {
                    if (_changes is { } after)
                    {
                        // Fallen behind for three quarters of the log's retention (a long database outage): entries may be gone, read it all.
                        if (time.GetUtcNow() - _changesReadAt < ZoneChanges.Retention * 0.75 && await TakeChangesAsync(store, current, after, cancellationToken).ConfigureAwait(false))
                        {
                            MarkChecked();
                            return;
                        }
                    }
                    else if (await UnchangedAsync(store, current, cancellationToken).ConfigureAwait(false))
                    {
                        MarkChecked();
                        return;
                    }
                }

                var previous = _current;
                var (table, last) = await LoadAsync(store, NextSerial(previous), cancellationToken).ConfigureAwait(false);
                if (previous is null || last is not null || table.Version != previous.Version)
                {
                    _current = table;
                }

                MarkChecked();
            }
        }
        finally
        {
            _reload.Release();
        }
    }

    /// <summary>
    /// Reads the change log after <paramref name="after"/> and reads again the names other instances changed, taking each
    /// in as it is now (a name changed again meanwhile is read in its newest state, and once more at the next read:
    /// the same records again). False when they are too many (the whole zone is cheaper to read).
    /// </summary>
    private async Task<bool> TakeChangesAsync(IZoneRecordStore store, ZoneTable table, long after, CancellationToken cancellationToken)
    {
        var readAt = time.GetUtcNow();
        var names = new HashSet<string>(_reread, StringComparer.Ordinal);
        ZoneChanges changes;
        do
        {
            changes = await store.ListChangesAsync(after, ChangesPerRead, cancellationToken).ConfigureAwait(false);
            names.UnionWith(changes.Names);
            after = changes.Last;
            if (names.Count > MaxNamesToReread)
            {
                return false;
            }
        }
        while (changes.More);

        if (names.Count > 0)
        {
            var records = (await store.ListAsync(names, cancellationToken).ConfigureAwait(false)).ToLookup(r => r.Name, StringComparer.Ordinal);
            var serial = NextSerial(table);
            foreach (var name in names)
            {
                table.Replace(name, [.. records[name]], serial);
            }

            Log.ChangesTaken(logger, names.Count, after);
        }

        (_changes, _changesReadAt) = (after, readAt);
        _reread.Clear();
        return true;
    }

    /// <summary>
    /// Whether the store still holds what <paramref name="current"/> holds. Between counts, the highest ID (one index
    /// step) notices every addition by another instance; the count, which notices a removal alone, is read every
    /// interval while it is cheap and, in a large zone, every 100 times what it cost, at most once a minute (a count of
    /// 1.1 million records took 40–90 ms while holding the zone's writes; once a second it cost a quarter of the address
    /// path's throughput: docs/benchmarks.md, scale).
    /// </summary>
    private async Task<bool> UnchangedAsync(IZoneRecordStore store, ZoneTable current, CancellationToken cancellationToken)
    {
        if (time.GetUtcNow() < _countDueAt)
        {
            return await store.GetMaxIdAsync(cancellationToken).ConfigureAwait(false) == current.Version.MaxId;
        }

        var started = time.GetTimestamp();
        var version = await store.GetVersionAsync(cancellationToken).ConfigureAwait(false);
        var cost = time.GetElapsedTime(started) * CountCostFactor;
        _countDueAt = time.GetUtcNow() + (cost < options.Value.RefreshInterval ? TimeSpan.Zero : cost > MaxCountInterval ? MaxCountInterval : cost);
        return version == current.Version;
    }

    /// <summary>
    /// Writes a change at <paramref name="name"/> (<paramref name="write"/>: added, removed, the highest ID added)
    /// and takes it in, re-reading that name only. The write and the version check never overlap, so the check
    /// never sees this instance's own change before the table holds it (which would read the whole zone again);
    /// a change by another instance moves the store's version away from the table's, and the next check reads the
    /// whole zone.
    /// </summary>
    public Task WriteAsync(string name, Func<Task<(int Added, int Removed, long MaxAddedId)>> write, CancellationToken cancellationToken)
        => ChangeAsync([name], write, async (table, version, serial) =>
        {
            var scope = scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var atName = await scope.ServiceProvider.GetRequiredService<IZoneRecordStore>().ListAsync(name, CancellationToken.None).ConfigureAwait(false);
                table.Replace(name, atName, version, serial);
            }
        }, cancellationToken);

    /// <summary>
    /// Writes the address records at <paramref name="name"/> and takes in what was written (its TXT records stay):
    /// no read of the database. Changes that arrive while one is written are written together after it, in one
    /// transaction (a group commit: the first caller writes for all who queued meanwhile), so the cost of a
    /// commit is shared by a fleet's concurrent updates.
    /// </summary>
    public async Task WriteAddressesAsync(string name, IReadOnlyList<System.Net.IPAddress> addresses, IReadOnlyList<ZoneRecord> records, CancellationToken cancellationToken)
    {
        var write = new AddressWrite(name, addresses, records);
        bool lead;
        lock (_queueLock)
        {
            _queue.Add(write);
            lead = !_flushing;
            _flushing = true;
        }

        if (lead)
        {
            while (true)
            {
                List<AddressWrite> batch;
                lock (_queueLock)
                {
                    if (_queue.Count == 0)
                    {
                        _flushing = false;
                        break;
                    }

                    // At most MaxBatch a transaction: the rest go in the next one.
                    batch = _queue[..Math.Min(_queue.Count, MaxBatch)];
                    _queue.RemoveRange(0, batch.Count);
                }

                // For everyone in the batch: not the leader's cancellation.
                await FlushAsync(batch).ConfigureAwait(false);
            }
        }

        await write.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task FlushAsync(List<AddressWrite> batch)
    {
        // The last change of a name wins; the earlier ones are done when it is.
        var last = new Dictionary<string, AddressWrite>(StringComparer.Ordinal);
        foreach (var write in batch)
        {
            last[write.Name] = write;
        }

        try
        {
            await ChangeAsync(
                last.Keys,
                async () =>
                {
                    var scope = scopes.CreateAsyncScope();
                    await using (scope.ConfigureAwait(false))
                    {
                        var store = scope.ServiceProvider.GetRequiredService<IZoneRecordStore>();
                        try
                        {
                            return await store.ReplaceManyAsync([.. last.Values.Select(w => (w.Name, w.Records))], AddressTypes, CancellationToken.None).ConfigureAwait(false);
                        }
                        catch (ConcurrencyConflictException) when (last.Count > 1)
                        {
                            // Another instance changed one of them: each on its own, so that one conflict fails one caller.
                            var (added, removed, maxId) = (0, 0, 0L);
                            foreach (var write in last.Values)
                            {
                                try
                                {
                                    var (a, r, m) = await store.ReplaceAsync(write.Name, AddressTypes, write.Records, CancellationToken.None).ConfigureAwait(false);
                                    (added, removed, maxId) = (added + a, removed + r, Math.Max(maxId, m));
                                }
                                catch (ConcurrencyConflictException ex)
                                {
                                    write.Failed = ex;
                                }
                            }

                            return (added, removed, maxId);
                        }
                    }
                },
                (table, version, serial) =>
                {
                    foreach (var write in last.Values.Where(w => w.Failed is null))
                    {
                        table.SetAddresses(write.Name, write.Addresses, version, serial);
                    }

                    return Task.CompletedTask;
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            foreach (var write in batch)
            {
                write.Done.TrySetException(ex);
            }

            return;
        }

        foreach (var write in batch)
        {
            var failed = last[write.Name].Failed;
            if (failed is null)
            {
                write.Done.TrySetResult();
            }
            else
            {
                write.Done.TrySetException(failed);
            }
        }
    }

    private static readonly string[] AddressTypes = ["A", "AAAA"];

    private const int MaxBatch = 256;

    private readonly Lock _queueLock = new();
    private readonly List<AddressWrite> _queue = [];
    private bool _flushing;

    private sealed class AddressWrite(string name, IReadOnlyList<System.Net.IPAddress> addresses, IReadOnlyList<ZoneRecord> records)
    {
        public string Name { get; } = name;

        public IReadOnlyList<System.Net.IPAddress> Addresses { get; } = addresses;

        public IReadOnlyList<ZoneRecord> Records { get; } = records;

        public Exception? Failed { get; set; }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Writes a change of this instance at <paramref name="names"/> and takes it in (<paramref name="apply"/>). When that
    /// fails half-way (a commit whose answer was lost, the read after it), the database may hold a change the table does
    /// not, and the change log hands this instance's own entries to the others only: the names are read again at the next
    /// refresh.
    /// </summary>
    private async Task ChangeAsync(IEnumerable<string> names, Func<Task<(int Added, int Removed, long MaxAddedId)>> write, Func<ZoneTable, (int Count, long MaxId), uint, Task> apply, CancellationToken cancellationToken)
    {
        await _reload.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (added, removed, maxAddedId) = await write().ConfigureAwait(false);
            if (added == 0 && removed == 0)
            {
                return;
            }

            // Taken in even if the caller gives up now: the database holds the change.
            if (_current is not { } current)
            {
                // Not read yet (the database was down at start): read it whole now, the change included.
                var scope = scopes.CreateAsyncScope();
                await using (scope.ConfigureAwait(false))
                {
                    (_current, _) = await LoadAsync(scope.ServiceProvider.GetRequiredService<IZoneRecordStore>(), NextSerial(null), CancellationToken.None).ConfigureAwait(false);
                }
            }
            else
            {
                var version = (current.Version.Count + added - removed, Math.Max(current.Version.MaxId, maxAddedId));
                await apply(current, version, NextSerial(current)).ConfigureAwait(false);
            }

            MarkChecked();
        }
        catch when (_changes is not null)
        {
            _reread.UnionWith(names);
            throw;
        }
        finally
        {
            _reload.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Read at start already (StartAsync): the first check comes one interval later, unless that read failed.
            if (_current is not null || _failing)
            {
                try
                {
                    await Task.Delay(options.Value.RefreshInterval, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            try
            {
                await RefreshAsync(stoppingToken).ConfigureAwait(false);
                if (_failing)
                {
                    _failing = false;
                    Log.Recovered(logger);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Logged once per outage, not once a second.
                if (!_failing)
                {
                    _failing = true;
                    Log.ReadFailed(logger, ex);
                }
            }
        }
    }

    public override void Dispose()
    {
        _reload.Dispose();
        base.Dispose();
    }

    /// <summary>
    /// Reads the whole zone, one record at a time, and the change log's position before it (the changes after it are
    /// taken in from the log, those before are in what was read; null without a log). A large zone leaves a heap grown
    /// by the records read (a million EF objects, short-lived): it is compacted and given back to the system at once,
    /// so that the instance's memory is the table's, not the load's.
    /// </summary>
    private async Task<(ZoneTable Table, long? LastChange)> LoadAsync(IZoneRecordStore store, uint serial, CancellationToken cancellationToken)
    {
        var readAt = time.GetUtcNow();
        var last = await store.GetLastChangeAsync(cancellationToken).ConfigureAwait(false);
        var table = await ZoneTable.BuildAsync(Zone, store.StreamByNameAsync(cancellationToken), serial, cancellationToken).ConfigureAwait(false);
        (_changes, _changesReadAt) = (last, readAt);
        _reread.Clear();
        Interlocked.Increment(ref _fullReads);
        if (table.RecordCount >= LargeZone)
        {
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }

        return (table, last);
    }

    private const int LargeZone = 100_000;

    private void MarkChecked() => Interlocked.Exchange(ref _checkedAtTicks, time.GetUtcNow().UtcTicks);

    /// <summary>Seconds since 1970 (the usual SOA serial), and always above the previous one.</summary>
    private uint NextSerial(ZoneTable? previous)
    {
        var now = (uint)Math.Clamp(time.GetUtcNow().ToUnixTimeSeconds(), 1, uint.MaxValue);
        return previous is null || now > previous.Serial ? now : previous.Serial + 1;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Reading the zone's records from the database failed; the DNS server answers from the last records it read until the database is back.")]
        public static partial void ReadFailed(ILogger logger, Exception exception);

        [LoggerMessage(2, LogLevel.Information, "Reading the zone's records from the database works again.")]
        public static partial void Recovered(ILogger logger);

        [LoggerMessage(3, LogLevel.Debug, "Took in {Count} names other instances changed (change log read up to {Last}).")]
        public static partial void ChangesTaken(ILogger logger, int count, long last);
    }
}
