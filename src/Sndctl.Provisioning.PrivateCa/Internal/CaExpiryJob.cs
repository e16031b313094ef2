using System.Diagnostics.Metrics;
using System.Security.Cryptography.X509Certificates;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// Hourly, on one instance: when the private CA's certificates end (<c>sndctl.privateca.certificate.expiry</c>, Unix
/// seconds, by <c>ca</c>: root, devices, webhook, private_server), for the alert that warns months ahead.
/// </summary>
internal sealed class CaExpiryJob : IProvisioningJob
{
    private readonly CertificateAuthority _authority;
    private volatile IReadOnlyList<(string Ca, DateTimeOffset NotAfter)> _expiries = [];

    public CaExpiryJob(CertificateAuthority authority, IMeterFactory meterFactory)
    {
        _authority = authority;
        meterFactory.Create(CsrMetrics.MeterName).CreateObservableGauge(
            "sndctl.privateca.certificate.expiry",
            () => _expiries.Select(e => new Measurement<double>(e.NotAfter.ToUnixTimeSeconds(), new KeyValuePair<string, object?>("ca", e.Ca))),
            unit: "s",
            description: "When each certificate of the private CA ends (Unix time), by ca: root, devices (the device-issuing CA), webhook, private_server.");
    }

    public string Name => "ca-expiry";

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var ca = await _authority.GetAsync(cancellationToken).ConfigureAwait(false);
        var expiries = new List<(string, DateTimeOffset)> { ("root", NotAfter(ca.Root)), ("devices", NotAfter(ca.Issuer)) };
        // The CSR intermediates only where the CSR service runs (asking for one makes it when it is missing).
        var csrTypes = services.GetService(typeof(ICsrService)) is null ? [] : new[] { (CsrCertificateType.Webhook, "webhook"), (CsrCertificateType.PrivateServer, "private_server") };
        foreach (var (type, name) in csrTypes)
        {
            try
            {
                expiries.Add((name, NotAfter((await _authority.GetCsrIssuerAsync(type, cancellationToken).ConfigureAwait(false)).Issuer)));
            }
            catch (CertificateAuthorityUnavailableException)
            {
                // Not made yet and the root key is offline: nothing of it to expire.
            }
        }

        _expiries = expiries;
    }

    private static DateTimeOffset NotAfter(X509Certificate2 certificate) => new(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
}
