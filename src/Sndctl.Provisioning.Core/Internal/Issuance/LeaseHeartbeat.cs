using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// This process's lease holder name: <c>instance#incarnation</c> when <see cref="DeviceProvisioningOptions.InstanceId"/>
/// is set (so the instance, restarted, takes over the leases its dead process left), else unique to the process.
/// </summary>
internal sealed class LeaseHolder(Microsoft.Extensions.Options.IOptions<DeviceProvisioningOptions> options)
{
    public string Value { get; } = options.Value.InstanceId is { } instance
        ? $"{instance}#{Guid.NewGuid():N}"
        : $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
}

/// <summary>
/// Renews a lease (a device's issuance, or a periodic job's leadership) every third of its time to
/// live while the work runs, on its own scope (the work's DbContext is busy). A failed renewal is
/// tried again at the next beat (the lease still has two thirds to live); a refused one means another
/// instance took the lease after it expired: the work is cancelled so that it stops writing.
/// A timer, not a waiting task: most issuances end long before the first beat, and then the heartbeat
/// costs a timer and nothing else (no task, no cancellation exception).
/// </summary>
internal sealed partial class LeaseHeartbeat : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly IServiceScopeFactory _scopes;
    private readonly string _key;
    private readonly string _holder;
    private readonly TimeSpan _duration;
    private readonly CancellationTokenSource _work;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private CancellationTokenSource? _stop;
    private Task? _renewal;
    private bool _stopped;
    private volatile bool _lost;

    public LeaseHeartbeat(IServiceScopeFactory scopes, string key, string holder, TimeSpan duration, TimeProvider time, CancellationTokenSource work, ILogger logger)
    {
        _scopes = scopes;
        _key = key;
        _holder = holder;
        _duration = duration;
        _work = work;
        _logger = logger;
        _timer = time.CreateTimer(static state => ((LeaseHeartbeat)state!).Beat(), this, duration / 3, duration / 3);
    }

    /// <summary>Another instance took the lease; the work was cancelled.</summary>
    public bool Lost => _lost;

    public async ValueTask DisposeAsync()
    {
        Task? renewal;
        lock (_lock)
        {
            _stopped = true;
            renewal = _renewal;
        }

        await _timer.DisposeAsync().ConfigureAwait(false);
        if (renewal is not null)
        {
            await _stop!.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _stop.Dispose();
        }
    }

    /// <summary>A beat: starts a renewal unless one is still running (a slow database) or the work ended.</summary>
    private void Beat()
    {
        lock (_lock)
        {
            if (_stopped || _renewal is { IsCompleted: false })
            {
                return;
            }

            _stop ??= new CancellationTokenSource();
            var stopping = _stop.Token;
            _renewal = Task.Run(() => RenewAsync(stopping)); // not on the timer's thread, nor under the lock
        }
    }

    private async Task RenewAsync(CancellationToken stopping)
    {
        bool renewed;
        try
        {
            var scope = _scopes.CreateAsyncScope();
            await using var scopeDisposal = scope.ConfigureAwait(false);
            renewed = await scope.ServiceProvider.GetRequiredService<IIssuanceLeaseStore>()
                .TryAcquireAsync(_key, _holder, _duration, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            Log.HeartbeatFailed(_logger, _key, ex);
            return;
        }

        if (!renewed && !stopping.IsCancellationRequested)
        {
            _lost = true;
            await _timer.DisposeAsync().ConfigureAwait(false);
            Log.LeaseLost(_logger, _key);
            await _work.CancelAsync().ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Renewing the lease {Key} failed; trying again at the next heartbeat.")]
        public static partial void HeartbeatFailed(ILogger logger, string key, Exception exception);

        [LoggerMessage(2, LogLevel.Error, "The lease {Key} was taken by another instance: the work under it stops.")]
        public static partial void LeaseLost(ILogger logger, string key);
    }
}
