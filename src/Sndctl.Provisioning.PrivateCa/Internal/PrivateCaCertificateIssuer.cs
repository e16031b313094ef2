using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>Issues device-hostname certificates from the private CA, offline and in microseconds.</summary>
internal sealed class PrivateCaCertificateIssuer(CertificateAuthority authority, IOptions<PrivateCaOptions> options, TimeProvider time) : ICertificateIssuer
{
    public const string IssuerName = "PrivateCa";

    public string Name => IssuerName;

    public async Task<IssuedCertificate> IssueAsync(CertificateIssueRequest request, CancellationToken cancellationToken)
    {
        var ca = await authority.GetAsync(cancellationToken);
        CertificateRequest csr;
        try
        {
            csr = CertificateRequest.LoadSigningRequest(request.CertificateSigningRequest.Span, HashAlgorithmName.SHA256, out _, CertificateRequestLoadOptions.Default);
        }
        catch (CryptographicException ex)
        {
            throw new CertificateIssuanceException("The certificate signing request is not a valid PKCS#10 request.", ex);
        }

        using var leaf = ca.Sign(BuildLeafRequest(request.Hostname, csr.PublicKey, ca.Issuer), NotBefore(), NotAfter(), CaCertificates.NewSerialNumber());
        return new IssuedCertificate(leaf.ExportCertificatePem() + "\n" + ca.IssuerPem);
    }

    /// <summary>
    /// Nothing to tell a CA that lives here: the certificate is marked revoked in the store, which is
    /// what this CA's revocation list is made from.
    /// </summary>
    public Task RevokeAsync(DeviceCertificate certificate, CancellationToken cancellationToken) => Task.CompletedTask;

    internal static CertificateRequest BuildLeafRequest(string hostname, PublicKey publicKey, X509Certificate2 issuer)
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
