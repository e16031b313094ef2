using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>Reads what an issuer returned and turns it into a stored certificate.</summary>
internal static class IssuedChain
{
    public static DeviceCertificate ToDeviceCertificate(
        IssuedCertificate issued,
        string deviceId,
        string hostname,
        string issuerName,
        byte[] expectedPublicKey,
        string? protectedPrivateKey,
        Guid? replacesId,
        DateTimeOffset now,
        Random random,
        bool earlyReissue = false)
    {
        using var leaf = X509Certificate2.CreateFromPem(issued.CertificatePem);
        if (!leaf.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(expectedPublicKey))
        {
            throw new CertificateIssuanceException($"Issuer '{issuerName}' returned a certificate for a different key than requested.");
        }

        if (!leaf.MatchesHostname(hostname, allowWildcards: false, allowCommonName: false))
        {
            throw new CertificateIssuanceException($"Issuer '{issuerName}' returned a certificate that does not name '{hostname}'.");
        }

        var notBefore = new DateTimeOffset(leaf.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var notAfter = new DateTimeOffset(leaf.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        return new DeviceCertificate
        {
            DeviceId = deviceId,
            Issuer = issuerName,
            CertificateAuthority = issued.CertificateAuthority,
            SerialNumber = leaf.SerialNumber,
            Thumbprint = leaf.GetCertHashString(HashAlgorithmName.SHA256),
            CertificatePem = NormalizePem(issued.CertificatePem),
            ProtectedPrivateKey = protectedPrivateKey,
            NotBefore = notBefore,
            NotAfter = notAfter,
            RenewAfter = issued.RenewAfter ?? DefaultRenewAfter(notBefore, notAfter, random),
            IssuedAt = now,
            ReplacesId = replacesId,
            EarlyReissue = earlyReissue,
        };
    }

    /// <summary>
    /// The start of the last third of the lifetime, whatever the lifetime is (60 of 90 days, 30 of 45,
    /// 4 of 6), plus a random jitter of up to a twentieth of the lifetime (4.5 days of 90), so that a
    /// fleet provisioned in one afternoon does not come back for renewal in the same minute.
    /// </summary>
    public static DateTimeOffset DefaultRenewAfter(DateTimeOffset notBefore, DateTimeOffset notAfter, Random random)
    {
        var lifetime = notAfter - notBefore;
        var jitter = TimeSpan.FromTicks((long)(lifetime.Ticks / 20 * random.NextDouble()));
        return notBefore + (lifetime * 2 / 3) + jitter;
    }

    public static byte[] PublicKeyOf(DeviceCertificate certificate)
    {
        using var leaf = X509Certificate2.CreateFromPem(certificate.CertificatePem);
        return leaf.PublicKey.ExportSubjectPublicKeyInfo();
    }

    /// <summary>Re-encodes a chain as plain PEM blocks, leaf first, one per certificate.</summary>
    private static string NormalizePem(string pem)
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPem(pem);
        var builder = new System.Text.StringBuilder();
        foreach (var certificate in collection)
        {
            builder.Append(certificate.ExportCertificatePem()).Append('\n');
            certificate.Dispose();
        }

        return builder.ToString();
    }
}
