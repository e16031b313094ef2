using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Buffers.Text;
using Sndctl.Provisioning.Acme.Internal;

namespace Sndctl.Provisioning.Acme;

/// <summary>Certificates: download with chain choice (RFC 8555 §7.4.2), revocation (§7.6), renewal information (RFC 9773).</summary>
public sealed partial class AcmeClient
{
    /// <summary>
    /// Downloads the certificate chain (PEM, leaf first). With <paramref name="preferredChain"/>, returns
    /// the first chain (default, then each <c>Link: rel="alternate"</c>) whose topmost certificate is
    /// issued by or named <paramref name="preferredChain"/> (a subject common name, e.g.
    /// <c>ISRG Root X1</c>); the default chain when none matches.
    /// </summary>
    public async Task<AcmeCertificateChain> DownloadCertificateAsync(Uri certificateUrl, string? preferredChain, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certificateUrl);
        var chain = await DownloadOneAsync(certificateUrl, cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrEmpty(preferredChain) || ChainMatches(chain.Pem, preferredChain))
        {
            return chain;
        }

        foreach (var alternate in chain.Alternates)
        {
            var candidate = await DownloadOneAsync(alternate, cancellationToken).ConfigureAwait(false);
            if (ChainMatches(candidate.Pem, preferredChain))
            {
                return candidate with { Alternates = chain.Alternates };
            }
        }

        Log.PreferredChainNotOffered(_logger, preferredChain);
        return chain;
    }

    /// <summary>Revokes a certificate this account holds (RFC 8555 §7.6), with an RFC 5280 reason code.</summary>
    /// <exception cref="AcmeProblemException">With type <c>alreadyRevoked</c> when it was revoked before.</exception>
    public async Task RevokeCertificateAsync(ReadOnlyMemory<byte> certificateDer, int? reason, CancellationToken cancellationToken)
    {
        var directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        var revokeCert = directory.RevokeCert ?? throw new NotSupportedException("The CA's directory offers no revokeCert resource.");
        var payload = Jws.Payload(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("certificate", Base64Url.EncodeToString(certificateDer.Span));
            if (reason is { } code)
            {
                writer.WriteNumber("reason", code);
            }

            writer.WriteEndObject();
        });
        using var response = await PostAsAccountAsync(revokeCert, payload, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks the CA when to renew a certificate (RFC 9773 §4.2); <see langword="null"/> when the directory
    /// offers no <c>renewalInfo</c> or the CA does not know the certificate.
    /// </summary>
    public async Task<AcmeRenewalInfo?> GetRenewalInfoAsync(X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        if (directory.RenewalInfo is not { } renewalInfo || AcmeCertificateIdentifier.TryGet(certificate) is not { } id)
        {
            return null;
        }

        var url = new Uri(renewalInfo.AbsoluteUri.TrimEnd('/') + "/" + id);
        using var response = await _transport.SendAsync(() => AcmeTransport.Get(url, "application/json"), url, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await _transport.EnsureSuccessAsync(response, url, cancellationToken).ConfigureAwait(false);
        var info = await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeRenewalInfo, url, cancellationToken).ConfigureAwait(false);
        return info with { RetryAfter = _transport.RetryAfterOf(response) };
    }

    /// <summary>The key authorization for a challenge token (<c>token.thumbprint</c>).</summary>
    public string GetKeyAuthorization(string token) => _accountKey.GetKeyAuthorization(token);

    /// <summary>The TXT value to publish at <c>_acme-challenge.&lt;name&gt;</c> for a dns-01 token.</summary>
    public string GetDns01TxtValue(string token) => _accountKey.GetDns01TxtValue(token);

    private async Task<AcmeCertificateChain> DownloadOneAsync(Uri url, CancellationToken cancellationToken)
    {
        using var response = await PostAsAccountAsync(url, null, cancellationToken, accept: "application/pem-certificate-chain").ConfigureAwait(false);
        var pem = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            throw new AcmeProtocolException($"The CA's certificate at {url.AbsolutePath} is not a PEM chain.");
        }

        var alternates = new List<Uri>();
        if (response.Headers.TryGetValues("Link", out var links))
        {
            foreach (var link in LinkHeader.Parse(links))
            {
                if (link.Relation == "alternate")
                {
                    alternates.Add(Absolute(url, link.Target));
                }
            }
        }

        return new AcmeCertificateChain(pem, alternates);
    }

    private static bool ChainMatches(string pem, string preferredChain)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(pem);
        try
        {
            if (certificates.Count == 0)
            {
                return false;
            }

            var top = certificates[^1];
            return string.Equals(top.GetNameInfo(X509NameType.SimpleName, forIssuer: true), preferredChain, StringComparison.OrdinalIgnoreCase)
                || string.Equals(top.GetNameInfo(X509NameType.SimpleName, forIssuer: false), preferredChain, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }
        }
    }
}
