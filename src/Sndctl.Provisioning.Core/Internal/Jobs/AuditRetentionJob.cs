using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>Deletes audit events older than <see cref="RetentionOptions.AuditEvents"/>, hourly, on one instance.</summary>
internal sealed partial class AuditRetentionJob(IOptionsMonitor<DeviceProvisioningOptions> options, TimeProvider time, ILogger<AuditRetentionJob> logger) : IProvisioningJob
{
    public string Name => "audit-retention";

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow() - options.CurrentValue.Retention.AuditEvents;
        var purged = await services.GetRequiredService<IAuditEventStore>().PurgeBeforeAsync(before, cancellationToken).ConfigureAwait(false);
        if (purged > 0)
        {
            Log.Purged(logger, purged, before);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Deleted {Count} audit events older than {Before:O}.")]
        public static partial void Purged(ILogger logger, int count, DateTimeOffset before);
    }
}
