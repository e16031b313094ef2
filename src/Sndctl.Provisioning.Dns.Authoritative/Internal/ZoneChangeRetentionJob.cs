using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// Removes the zone change log's entries older than <see cref="ZoneChanges.Retention"/>, every minute, on one instance at
/// a time: the log holds the last minutes' changes (what an instance that reads it every
/// <see cref="AuthoritativeDnsOptions.RefreshInterval"/> needs), not the fleet's history.
/// </summary>
internal sealed partial class ZoneChangeRetentionJob(TimeProvider time, ILogger<ZoneChangeRetentionJob> logger) : IProvisioningJob
{
    public string Name => "zone-change-retention";

    public TimeSpan Interval => TimeSpan.FromMinutes(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var removed = await services.GetRequiredService<IZoneRecordStore>().RemoveChangesAsync(time.GetUtcNow() - ZoneChanges.Retention, cancellationToken).ConfigureAwait(false);
        if (removed > 0)
        {
            Log.Removed(logger, removed);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Removed {Count} entries of the zone's change log older than its retention.")]
        public static partial void Removed(ILogger logger, int count);
    }
}
