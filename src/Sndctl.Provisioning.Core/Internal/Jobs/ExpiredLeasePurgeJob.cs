using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>Deletes issuance and job leases that expired an hour ago or more (left by processes that died holding them), hourly, on one instance.</summary>
internal sealed partial class ExpiredLeasePurgeJob(ILogger<ExpiredLeasePurgeJob> logger) : IProvisioningJob
{
    public string Name => "lease-purge";

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var purged = await services.GetRequiredService<IIssuanceLeaseStore>().PurgeExpiredAsync(TimeSpan.FromHours(1), cancellationToken).ConfigureAwait(false);
        if (purged > 0)
        {
            Log.Purged(logger, purged);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Deleted {Count} leases that expired over an hour ago.")]
        public static partial void Purged(ILogger logger, int count);
    }
}
