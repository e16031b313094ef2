using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sndctl.Provisioning.Acme.Tests;

internal static class TestCertificates
{
    public static X509Certificate2 WithAuthorityKeyIdentifier()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issuer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=a.example", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(RandomNumberGenerator.GetBytes(20)));
        return request.Create(new X500DistinguishedName("CN=Issuer"), X509SignatureGenerator.CreateForECDsa(issuer),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(16));
    }
}
