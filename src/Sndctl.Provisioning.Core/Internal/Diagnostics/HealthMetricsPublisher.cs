using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Hands the health checks' periodic results (the health check publisher runs them every 30 s by default) to the
/// <c>sndctl.provisioning.health</c> gauge, so an alert sees a database or CA that stopped answering without anyone
/// calling <c>/api/health</c>.
/// </summary>
internal sealed class HealthMetricsPublisher(ProvisioningMetrics metrics) : IHealthCheckPublisher
{
    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        metrics.Health(report.Entries.Select(e => new KeyValuePair<string, double>(e.Key, e.Value.Status switch
        {
            HealthStatus.Healthy => 1,
            HealthStatus.Degraded => 0.5,
            _ => 0,
        })));
        return Task.CompletedTask;
    }
}
