using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// Purges denied CSR requests older than <see cref="PrivateCaOptions.DeniedRetention"/> and idle
/// rate-limit counters, hourly, so
/// that what anyone on the internet can submit does not grow the database for ever. Starts after a
/// random delay (instances do not run it in lock-step), uses a fresh scope per run and survives a
/// failed run. Deleting is idempotent, so several instances running it is harmless.
/// </summary>
internal sealed partial class CsrRetentionService(
    IServiceScopeFactory scopes,
    IServiceProviderIsService isService,
    IOptionsMonitor<PrivateCaOptions> options,
    TimeProvider time,
    ILogger<CsrRetentionService> logger,
    Random? random = null) : BackgroundService
{
    private readonly Random _random = random ?? Random.Shared;

    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!isService.IsService(typeof(ICsrRequestStore)))
        {
            return; // The CSR service is not in use: nothing to purge.
        }

        try
        {
            await Task.Delay(TimeSpan.FromSeconds(_random.Next(5, 60)), time, stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
                await Task.Delay(Interval, time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One purge; returns how many requests went.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            var scope = scopes.CreateAsyncScope();
            await using var scopeDisposal = scope.ConfigureAwait(false);
            var cutoff = time.GetUtcNow() - options.CurrentValue.DeniedRetention;
            var purged = await scope.ServiceProvider.GetRequiredService<ICsrRequestStore>().PurgeDeniedAsync(cutoff, cancellationToken).ConfigureAwait(false);
            if (purged > 0)
            {
                Log.Purged(logger, purged, cutoff);
            }

            // Rate-limit counters of networks that have gone quiet: one row per network that ever posted.
            if (scope.ServiceProvider.GetService<IRateLimitStore>() is { } rateLimits)
            {
                var idle = await rateLimits.PurgeAsync(time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                if (idle > 0)
                {
                    Log.PurgedCounters(logger, idle);
                }
            }

            return purged;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.Failed(logger, ex);
            return 0;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Purged {Count} denied CSR requests decided before {Cutoff:O}.")]
        public static partial void Purged(ILogger logger, int count, DateTimeOffset cutoff);

        [LoggerMessage(2, LogLevel.Warning, "Purging denied CSR requests failed; trying again in an hour.")]
        public static partial void Failed(ILogger logger, Exception exception);

        [LoggerMessage(3, LogLevel.Debug, "Purged {Count} idle rate-limit counters.")]
        public static partial void PurgedCounters(ILogger logger, int count);
    }
}
