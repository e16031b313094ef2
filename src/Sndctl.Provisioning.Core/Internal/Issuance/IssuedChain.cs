using System.Security.Cryptography;

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
        CertificateFields leaf;
        string chainPem;
        try
        {
            (leaf, chainPem) = ReadChain(issued.CertificatePem);
        }
        catch (CryptographicException ex)
        {
            throw new CertificateIssuanceException($"Issuer '{issuerName}' returned a certificate chain that cannot be read: {ex.Message}", ex);
        }

        if (!leaf.SubjectPublicKeyInfo.AsSpan().SequenceEqual(expectedPublicKey))
        {
            throw new CertificateIssuanceException($"Issuer '{issuerName}' returned a certificate for a different key than requested.");
        }

        if (!leaf.Names(hostname))
        {
            throw new CertificateIssuanceException($"Issuer '{issuerName}' returned a certificate that does not name '{hostname}'.");
        }

        return new DeviceCertificate
        {
            DeviceId = deviceId,
            Issuer = issuerName,
            CertificateAuthority = issued.CertificateAuthority,
            SerialNumber = leaf.SerialNumber,
            Thumbprint = leaf.Thumbprint,
            CertificatePem = chainPem,
            ProtectedPrivateKey = protectedPrivateKey,
            NotBefore = leaf.NotBefore,
            NotAfter = leaf.NotAfter,
            RenewAfter = issued.RenewAfter ?? DefaultRenewAfter(leaf.NotBefore, leaf.NotAfter, random),
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

    /// <summary>The SubjectPublicKeyInfo of a stored certificate (the leaf of its chain).</summary>
    public static byte[] PublicKeyOf(DeviceCertificate certificate) => CertificateFields.ReadFirst(certificate.CertificatePem).SubjectPublicKeyInfo;

    /// <summary>
    /// Reads a chain: its leaf's fields, and the chain re-encoded as plain PEM blocks, leaf first, one per
    /// certificate (text around them and blocks with other labels dropped), each read as a certificate.
    /// </summary>
    /// <exception cref="CryptographicException">No certificate, or one that is not a DER certificate.</exception>
    private static (CertificateFields Leaf, string Pem) ReadChain(string pem)
    {
        CertificateFields? leaf = null;
        var builder = new System.Text.StringBuilder(pem.Length);
        foreach (var der in CertificateFields.CertificateBlocks(pem))
        {
            var fields = CertificateFields.Read(der);
            leaf ??= fields;
            builder.Append(PemEncoding.Write("CERTIFICATE", der)).Append('\n');
        }

        return (leaf ?? throw CertificateFields.NoCertificate(), builder.ToString());
    }
}
