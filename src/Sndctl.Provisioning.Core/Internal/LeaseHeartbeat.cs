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
/// </summary>
internal sealed partial class LeaseHeartbeat : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _beating;
    private volatile bool _lost;

    public LeaseHeartbeat(IServiceScopeFactory scopes, string key, string holder, TimeSpan duration, TimeProvider time, CancellationTokenSource work, ILogger logger)
        => _beating = BeatAsync(scopes, key, holder, duration, time, work, logger);

    /// <summary>Another instance took the lease; the work was cancelled.</summary>
    public bool Lost => _lost;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _beating.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task BeatAsync(IServiceScopeFactory scopes, string key, string holder, TimeSpan duration, TimeProvider time, CancellationTokenSource work, ILogger logger)
    {
        try
        {
            while (true)
            {
                await Task.Delay(duration / 3, time, _stop.Token).ConfigureAwait(false);
                bool renewed;
                try
                {
                    var scope = scopes.CreateAsyncScope();
                    await using var scopeDisposal = scope.ConfigureAwait(false);
                    renewed = await scope.ServiceProvider.GetRequiredService<IIssuanceLeaseStore>()
                        .TryAcquireAsync(key, holder, duration, _stop.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.HeartbeatFailed(logger, key, ex);
                    continue;
                }

                if (!renewed)
                {
                    _lost = true;
                    Log.LeaseLost(logger, key);
                    await work.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
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
