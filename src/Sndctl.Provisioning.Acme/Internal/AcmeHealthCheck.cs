using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// Healthy when the CA answers (its directory, an unauthenticated GET, bounded) or the account is
/// ready; Degraded while the CA rate limit pauses new orders or the CA cannot be reached. A health
/// probe never registers an ACME account: that happens at the first issuance.
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
            if (accounts.IsEstablished)
            {
                var client = await accounts.GetClientAsync(timeout.Token).ConfigureAwait(false);
                return HealthCheckResult.Healthy($"ACME account {client.AccountUrl} at {client.DirectoryUrl}.");
            }

            await accounts.ProbeDirectoryAsync(timeout.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy("The CA's directory answers; the ACME account is registered at the first issuance.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Degraded, not Unhealthy: devices holding certificates are still served, and a CA outage
            // must not make an orchestrator restart every instance.
            return HealthCheckResult.Degraded("The CA could not be reached: " + ex.Message);
        }
    }
}
