using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>Healthy when the CA's certificates and keys load.</summary>
internal sealed class PrivateCaHealthCheck(CertificateAuthority authority) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var ca = await authority.GetAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"Private CA '{ca.Issuer.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, false)}'.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The private CA cannot be loaded.", ex);
        }
    }
}
