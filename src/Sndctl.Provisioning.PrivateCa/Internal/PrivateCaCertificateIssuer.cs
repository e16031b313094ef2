using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>Issues device-hostname certificates from the private CA, offline and in microseconds.</summary>
internal sealed class PrivateCaCertificateIssuer(CertificateAuthority authority, CsrRevocationLists crls, IOptions<PrivateCaOptions> options, TimeProvider time) : ICertificateIssuer
{
    public const string IssuerName = "PrivateCa";

    public string Name => IssuerName;

    public async Task<IssuedCertificate> IssueAsync(CertificateIssueRequest request, CancellationToken cancellationToken)
    {
        var ca = await authority.GetAsync(cancellationToken).ConfigureAwait(false);
        if (ca.PermittedDnsNames is { } permitted && !permitted.Any(p => request.Hostname.Equals(p, StringComparison.OrdinalIgnoreCase) || request.Hostname.EndsWith("." + p, StringComparison.OrdinalIgnoreCase)))
        {
            // Signing anyway would hand out a certificate that fails every relying party's path check.
            throw new CertificateAuthorityUnavailableException(
                $"The private CA's issuing certificate is name-constrained to {string.Join(", ", permitted)}, which does not cover '{request.Hostname}': Provisioning:BaseDomain changed since the CA was made. Restore the old BaseDomain, or start with a new private CA (docs/private-ca.md).",
                TimeSpan.FromMinutes(5));
        }

        CertificateRequest csr;
        try
        {
            // Its signature was checked by the caller (CertificateIssueRequest); verifying it again would
            // import the key into OpenSSL once more for nothing.
            csr = CertificateRequest.LoadSigningRequest(request.CertificateSigningRequest.Span, HashAlgorithmName.SHA256, out _, CertificateRequestLoadOptions.SkipSignatureValidation);
        }
        catch (CryptographicException ex)
        {
            throw new CertificateIssuanceException("The certificate signing request is not a valid PKCS#10 request.", ex);
        }

        var crl = options.Value.CrlBaseUrl is { } baseUrl ? CsrRevocationLists.DevicesUrl(baseUrl) : null;
        var leaf = ca.SignToDer(BuildLeafRequest(request.Hostname, csr.PublicKey, ca.Issuer, crl), NotBefore(), NotAfter(), CaCertificates.NewSerialNumber());
        return new IssuedCertificate(PemEncoding.WriteString("CERTIFICATE", leaf) + "\n" + ca.IssuerPem);
    }

    /// <summary>
    /// Nothing to tell a CA that lives here: the certificate is marked revoked in the store, which is
    /// what this CA's revocation list (<c>devices.crl</c>) is made from; the cached list is dropped.
    /// </summary>
    public Task RevokeAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
    {
        crls.InvalidateDevices();
        return Task.CompletedTask;
    }

    internal static CertificateRequest BuildLeafRequest(string hostname, PublicKey publicKey, X509Certificate2 issuer, Uri? crl = null)
    {
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + hostname), publicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var usage = publicKey.Oid.Value == "1.2.840.113549.1.1.1"
            ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment
            : X509KeyUsageFlags.DigitalSignature;
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CaCertificates.ServerAuthOid)], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostname);
        request.CertificateExtensions.Add(san.Build(critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(publicKey, false));
        request.CertificateExtensions.Add(AuthorityKeyIdentifier(issuer));
        if (crl is not null)
        {
            request.CertificateExtensions.Add(CertificateRevocationListBuilder.BuildCrlDistributionPointExtension([crl.AbsoluteUri]));
        }

        return request;
    }

    /// <summary>
    /// From the issuer's SKI when it has one; an existing CA loaded from files may not, and then the
    /// identifier is derived from its public key the way RFC 5280 suggests.
    /// </summary>
    private static X509AuthorityKeyIdentifierExtension AuthorityKeyIdentifier(X509Certificate2 issuer)
        => issuer.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Any()
            ? X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false)
            : X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(
                new X509SubjectKeyIdentifierExtension(issuer.PublicKey, false).SubjectKeyIdentifierBytes.Span);

    private DateTimeOffset NotBefore() => time.GetUtcNow() - options.Value.Backdate;

    private DateTimeOffset NotAfter() => time.GetUtcNow() + options.Value.CertificateLifetime;
}
