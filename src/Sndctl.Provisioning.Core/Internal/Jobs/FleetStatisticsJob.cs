using Microsoft.Extensions.DependencyInjection;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>Every minute, on one instance, reads the fleet's figures (devices by status, certificates expiring) for the metrics.</summary>
internal sealed class FleetStatisticsJob(ProvisioningMetrics metrics, TimeProvider time) : IProvisioningJob
{
    public string Name => "fleet-statistics";

    public TimeSpan Interval => TimeSpan.FromMinutes(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
        => metrics.Fleet(await services.GetRequiredService<IDeviceAdminService>().GetStatisticsAsync(cancellationToken).ConfigureAwait(false), time.GetUtcNow());
}
