using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// The zone as this instance answers it: a snapshot of the database's records, re-read when this instance
/// changes a record (at once) and when another instance did (noticed by comparing the store's version every
/// <see cref="AuthoritativeDnsOptions.RefreshInterval"/>). While the database cannot be read, the last snapshot
/// keeps being served: DNS answers outlive a database outage.
/// </summary>
internal sealed partial class ZoneCache(
    IServiceScopeFactory scopes,
    TimeProvider time,
    IOptions<AuthoritativeDnsOptions> options,
    ILogger<ZoneCache> logger) : BackgroundService
{
    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile ZoneSnapshot? _current;
    private long _checkedAtTicks;
    private bool _failing;

    public ZoneSnapshot? Current => _current;

    /// <summary>When the database was last read successfully (a version check or a reload).</summary>
    public DateTimeOffset? CheckedAt => Interlocked.Read(ref _checkedAtTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Re-reads the zone if the database's records differ from the snapshot.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _reload.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var scope = scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var store = scope.ServiceProvider.GetRequiredService<IZoneRecordStore>();
                if (_current is { } current && await store.GetVersionAsync(cancellationToken).ConfigureAwait(false) == current.Version)
                {
                    MarkChecked();
                    return;
                }

                var records = await store.ListAsync(cancellationToken).ConfigureAwait(false);
                var previous = _current;
                var snapshot = ZoneSnapshot.Build(records, NextSerial(previous));
                if (previous is not null && snapshot.Version == previous.Version)
                {
                    MarkChecked();
                    return;
                }

                _current = snapshot;
                MarkChecked();
            }
        }
        finally
        {
            _reload.Release();
        }
    }

    /// <summary>
    /// Takes in a change this instance made at <paramref name="name"/>: re-reads that name only, and moves the
    /// snapshot's version by the change (<paramref name="added"/>, <paramref name="removed"/>, the highest ID
    /// added). If another instance changed something meanwhile, the store's version differs from the one
    /// computed here and the next check reads the whole zone.
    /// </summary>
    public async Task ApplyAsync(string name, int added, int removed, long maxAddedId, CancellationToken cancellationToken)
    {
        if (added == 0 && removed == 0)
        {
            return;
        }

        await _reload.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var scope = scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var store = scope.ServiceProvider.GetRequiredService<IZoneRecordStore>();
                if (_current is not { } current)
                {
                    var records = await store.ListAsync(cancellationToken).ConfigureAwait(false);
                    _current = ZoneSnapshot.Build(records, NextSerial(null));
                }
                else
                {
                    var atName = await store.ListAsync(name, cancellationToken).ConfigureAwait(false);
                    var version = (current.Version.Count + added - removed, Math.Max(current.Version.MaxId, maxAddedId));
                    _current = current.With(name, atName, version, NextSerial(current));
                }

                MarkChecked();
            }
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

            try
            {
                await Task.Delay(options.Value.RefreshInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override void Dispose()
    {
        _reload.Dispose();
        base.Dispose();
    }

    private void MarkChecked() => Interlocked.Exchange(ref _checkedAtTicks, time.GetUtcNow().UtcTicks);

    /// <summary>Seconds since 1970 (the usual SOA serial), and always above the previous one.</summary>
    private uint NextSerial(ZoneSnapshot? previous)
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
    }
}
