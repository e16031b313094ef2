using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sndctl.Provisioning.Core.Internal;

namespace Sndctl.Provisioning.Core.Tests;

/// <summary>The certificate fields the server keeps, read with AsnReader, against what .NET's X509Certificate2 (OpenSSL) reads.</summary>
public sealed class CertificateFieldsTests
{
    private const string Hostname = "abc123.devices.example.com";

    private static X509Certificate2 Make(AsymmetricAlgorithm key, byte[] serial, DateTimeOffset notBefore, DateTimeOffset notAfter, params string[] dnsNames)
    {
        var request = key is RSA rsa
            ? new CertificateRequest("CN=" + Hostname, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest("CN=" + Hostname, (ECDsa)key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        if (dnsNames.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(System.Net.IPAddress.Parse("192.168.1.2"));
            foreach (var name in dnsNames)
            {
                san.AddDnsName(name);
            }

            request.CertificateExtensions.Add(san.Build(critical: true));
        }

        using var ca = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return request.Create(new X500DistinguishedName("CN=Test CA"), X509SignatureGenerator.CreateForECDsa(ca), notBefore, notAfter, serial);
    }

    public static TheoryData<string, byte[], int> Cases => new()
    {
        { "P-256, short serial, UTCTime", [0x01, 0x02], 90 },
        { "P-256, serial with its high bit set (a leading zero byte)", [0x80, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77], 45 },
        { "RSA, 16-byte serial, GeneralizedTime after 2049", RandomNumberGenerator.GetBytes(16), 365 * 40 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reads_what_X509Certificate2_reads(string name, byte[] serial, int days)
    {
        using AsymmetricAlgorithm key = name.StartsWith("RSA", StringComparison.Ordinal) ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var notBefore = new DateTimeOffset(2026, 12, 1, 10, 20, 30, TimeSpan.Zero);
        using var certificate = Make(key, serial, notBefore, notBefore.AddDays(days), Hostname, "other.example.com");

        var fields = CertificateFields.Read(certificate.RawData);

        Assert.Equal(certificate.SerialNumber, fields.SerialNumber);
        Assert.Equal(certificate.NotBefore.ToUniversalTime(), fields.NotBefore.UtcDateTime);
        Assert.Equal(certificate.NotAfter.ToUniversalTime(), fields.NotAfter.UtcDateTime);
        Assert.Equal(certificate.PublicKey.ExportSubjectPublicKeyInfo(), fields.SubjectPublicKeyInfo);
        Assert.Equal(key is RSA r ? r.ExportSubjectPublicKeyInfo() : ((ECDsa)key).ExportSubjectPublicKeyInfo(), fields.SubjectPublicKeyInfo);
        Assert.Equal(certificate.GetCertHashString(HashAlgorithmName.SHA256), fields.Thumbprint);
        Assert.Equal([Hostname, "other.example.com"], fields.DnsNames);
        Assert.True(fields.Names(Hostname.ToUpperInvariant()));
        Assert.False(fields.Names("abc123"));
    }

    [Fact]
    public void A_certificate_without_subject_alternative_names_names_nothing()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = Make(key, [0x05], DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));

        var fields = CertificateFields.Read(certificate.RawData);

        Assert.Empty(fields.DnsNames);
        Assert.False(fields.Names(Hostname), "the common name does not count");
    }

    [Fact]
    public void Blocks_are_read_in_order_and_other_labels_skipped()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var leaf = Make(key, [0x01], DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1), Hostname);
        using var second = Make(key, [0x02], DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1), Hostname);
        var pem = "junk before\n" + key.ExportPkcs8PrivateKeyPem() + "\n" + leaf.ExportCertificatePem() + "\r\n\r\n" + second.ExportCertificatePem();

        var blocks = CertificateFields.CertificateBlocks(pem).ToList();

        Assert.Equal([leaf.RawData, second.RawData], blocks);
        Assert.Equal(leaf.SerialNumber, CertificateFields.ReadFirst(pem).SerialNumber);
    }

    [Theory]
    [InlineData("no block")]
    [InlineData("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")]
    [InlineData("-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n")]
    public void What_is_not_a_certificate_is_refused(string pem)
        => Assert.ThrowsAny<CryptographicException>(() => CertificateFields.ReadFirst(pem));

    [Fact]
    public void Trailing_bytes_and_truncation_are_refused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = Make(key, [0x01], DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1), Hostname);

        Assert.ThrowsAny<CryptographicException>(() => CertificateFields.Read([.. certificate.RawData, 0x00]));
        Assert.ThrowsAny<CryptographicException>(() => CertificateFields.Read(certificate.RawData[..^1]));
    }
}
