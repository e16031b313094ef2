using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// Denies CSR requests that waited longer than <see cref="PrivateCaOptions.PendingExpiry"/>, purges denied ones
/// older than <see cref="PrivateCaOptions.DeniedRetention"/>, approved ones whose certificate expired more than
/// <see cref="PrivateCaOptions.ExpiredRetention"/> ago, and idle rate-limit counters, hourly, on one instance at a time (a periodic job), so that what anyone on
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
            var o = options.CurrentValue;
            var now = time.GetUtcNow();
            var store = services.GetRequiredService<ICsrRequestStore>();

            // Waiting too long is a denial (then purged with the other denials after DeniedRetention).
            var expired = await store.ExpirePendingAsync(now - o.PendingExpiry, PendingExpiredMessage(o), now, cancellationToken).ConfigureAwait(false);
            if (expired > 0)
            {
                Log.PendingExpired(logger, expired, o.PendingExpiry.TotalDays);
            }

            var cutoff = now - o.DeniedRetention;
            var purged = await store.PurgeDeniedAsync(cutoff, cancellationToken).ConfigureAwait(false);
            if (purged > 0)
            {
                Log.Purged(logger, purged, cutoff);
            }

            var ended = await store.PurgeExpiredAsync(now - o.ExpiredRetention, cancellationToken).ConfigureAwait(false);
            if (ended > 0)
            {
                Log.PurgedExpired(logger, ended, o.ExpiredRetention.TotalDays);
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

    internal static string PendingExpiredMessage(PrivateCaOptions o)
        => $"Not decided by an administrator within {o.PendingExpiry.TotalDays:0.#} days; submit the CSR again if it is still wanted.";

    private static partial class Log
    {
        [LoggerMessage(4, LogLevel.Information, "Denied {Count} CSR requests that waited for an administrator longer than {Days:0.#} days.")]
        public static partial void PendingExpired(ILogger logger, int count, double days);

        [LoggerMessage(5, LogLevel.Information, "Purged {Count} approved CSR requests whose certificates expired more than {Days:0.#} days ago.")]
        public static partial void PurgedExpired(ILogger logger, int count, double days);

        [LoggerMessage(1, LogLevel.Information, "Purged {Count} denied CSR requests decided before {Cutoff:O}.")]
        public static partial void Purged(ILogger logger, int count, DateTimeOffset cutoff);

        [LoggerMessage(2, LogLevel.Warning, "Purging denied CSR requests failed; the job runs again in an hour.")]
        public static partial void Failed(ILogger logger, Exception exception);

        [LoggerMessage(3, LogLevel.Debug, "Purged {Count} idle rate-limit counters.")]
        public static partial void PurgedCounters(ILogger logger, int count);
    }
}
