using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// Healthy once the ACME account is registered (checked at most once per call, bounded); Degraded
/// while the CA rate limit pauses new orders or the CA cannot be reached.
/// </summary>
internal sealed class AcmeHealthCheck(AcmeAccountManager accounts, AcmeRateLimitGate gate) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (gate.ClosedUntil is { } until)
        {
            return HealthCheckResult.Degraded($"The CA rate-limited new orders until {until:O}; certificates already issued are served.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var client = await accounts.GetClientAsync(timeout.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"ACME account {client.AccountUrl} at {client.DirectoryUrl}.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Degraded, not Unhealthy: devices holding certificates are still served, and a CA outage
            // must not make an orchestrator restart every instance.
            return HealthCheckResult.Degraded("The ACME account could not be reached or registered: " + ex.Message);
        }
    }
}
