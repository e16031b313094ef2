using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sndctl.Provisioning.Internal;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// Healthy when the primary CA answers (its directory, an unauthenticated GET, bounded) or its account is
/// ready; Degraded while its rate limit pauses new orders or it cannot be reached, naming the fallback CA
/// that issues meanwhile when one answers. A health probe never registers an ACME account: that happens at
/// the first issuance. The CAs are asked at most once every 30 seconds however often health is read
/// (<see cref="HealthProbeCache"/>), so anonymous health traffic cannot be turned into traffic to the CAs.
/// </summary>
internal sealed class AcmeHealthCheck(AcmeAccountManager accounts, TimeProvider time) : IHealthCheck
{
    private readonly HealthProbeCache _cache = new(time, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => _cache.GetAsync(ProbeAsync, cancellationToken);

    private async Task<HealthCheckResult> ProbeAsync(CancellationToken cancellationToken)
    {
        var primary = await ProblemOfAsync(accounts.Primary, cancellationToken).ConfigureAwait(false);
        if (primary is null)
        {
            return HealthCheckResult.Healthy(AcmeAccountManager.IsEstablished(accounts.Primary)
                ? $"ACME account {accounts.Primary.Client!.AccountUrl} at {accounts.Primary.DirectoryUrl}."
                : "The CA's directory answers; the ACME account is registered at the first issuance.");
        }

        // Degraded, not Unhealthy: devices holding certificates are still served, and a CA outage
        // must not make an orchestrator restart every instance.
        foreach (var fallback in accounts.Authorities.Skip(1))
        {
            if (await ProblemOfAsync(fallback, cancellationToken).ConfigureAwait(false) is null)
            {
                return HealthCheckResult.Degraded($"{primary} New certificates come from the fallback CA {fallback.DirectoryUrl} meanwhile.");
            }
        }

        return HealthCheckResult.Degraded(accounts.Authorities.Count > 1 ? primary + " No fallback CA answers either." : primary);
    }

    /// <summary>Why <paramref name="ca"/> cannot take new orders now, or <see langword="null"/> when it can.</summary>
    private async Task<string?> ProblemOfAsync(AcmeCertificateAuthority ca, CancellationToken cancellationToken)
    {
        if (ca.Gate.ClosedUntil is { } until)
        {
            return $"The CA {ca.DirectoryUrl} rate-limited new orders until {until:O}; certificates already issued are served.";
        }

        if (AcmeAccountManager.IsEstablished(ca))
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await accounts.ProbeDirectoryAsync(ca, timeout.Token).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return $"The CA {ca.DirectoryUrl} could not be reached: {ex.Message}";
        }
    }
}
