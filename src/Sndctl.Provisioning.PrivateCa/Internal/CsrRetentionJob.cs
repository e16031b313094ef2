using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// Purges denied CSR requests older than <see cref="PrivateCaOptions.DeniedRetention"/> and idle
/// rate-limit counters, hourly, on one instance at a time (a periodic job), so that what anyone on
/// the internet can submit does not grow the database for ever. A failed run is logged and the job
/// runs again at its next interval.
/// </summary>
internal sealed partial class CsrRetentionJob(
    IOptionsMonitor<PrivateCaOptions> options,
    TimeProvider time,
    ILogger<CsrRetentionJob> logger) : IProvisioningJob
{
    public string Name => "csr-retention";

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public Task RunAsync(IServiceProvider services, CancellationToken cancellationToken) => RunOnceAsync(services, cancellationToken);

    /// <summary>One purge; returns how many requests went.</summary>
    public async Task<int> RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        try
        {
            var cutoff = time.GetUtcNow() - options.CurrentValue.DeniedRetention;
            var purged = await services.GetRequiredService<ICsrRequestStore>().PurgeDeniedAsync(cutoff, cancellationToken).ConfigureAwait(false);
            if (purged > 0)
            {
                Log.Purged(logger, purged, cutoff);
            }

            // Rate-limit counters of networks that have gone quiet: one row per network that ever posted.
            if (services.GetService<IRateLimitStore>() is { } rateLimits)
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

        [LoggerMessage(2, LogLevel.Warning, "Purging denied CSR requests failed; the job runs again in an hour.")]
        public static partial void Failed(ILogger logger, Exception exception);

        [LoggerMessage(3, LogLevel.Debug, "Purged {Count} idle rate-limit counters.")]
        public static partial void PurgedCounters(ILogger logger, int count);
    }
}
