using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sndctl.Provisioning.PrivateCa.Internal;

namespace Sndctl.Provisioning.PrivateCa.Tests;

/// <summary>The private CA's certificates made as DER against what .NET's CertificateRequest.Create makes.</summary>
public sealed class CertificateDerTests
{
    private static readonly X500DistinguishedName s_issuer = new("CN=Sndctl Test Issuing CA, O=Sndctl");

    private static CertificateRequest Leaf(bool extensions)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=abc123.devices.example.com"), new PublicKey(key), HashAlgorithmName.SHA256);
        if (extensions)
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("abc123.devices.example.com");
            request.CertificateExtensions.Add(san.Build(critical: false));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        }

        return request;
    }

    public static TheoryData<string, byte[], DateTimeOffset, DateTimeOffset, bool> Cases => new()
    {
        { "typical", CaCertificates.NewSerialNumber(), new(2026, 12, 2, 3, 4, 5, 678, TimeSpan.Zero), new(2027, 3, 2, 3, 4, 5, TimeSpan.Zero), true },
        { "serial with its high bit set", [0x80, 0x01, 0x02], new(2026, 12, 2, 0, 0, 0, TimeSpan.FromHours(2)), new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), true },
        { "serial with redundant leading zeros", [0x00, 0x00, 0x05], new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero), new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), true },
        { "no extensions, times across 2050", [0x7F], new(2049, 12, 31, 23, 59, 59, TimeSpan.Zero), new(2050, 1, 1, 0, 0, 0, 500, TimeSpan.Zero), false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_RSA_CA_makes_the_same_bytes_as_CertificateRequest_Create(string name, byte[] serial, DateTimeOffset notBefore, DateTimeOffset notAfter, bool extensions)
    {
        using var caKey = RSA.Create(2048);
        var generator = X509SignatureGenerator.CreateForRSA(caKey, RSASignaturePadding.Pkcs1); // deterministic signatures
        var request = Leaf(extensions);

        var ours = CaCertificates.CreateCertificateDer(request, s_issuer, generator, notBefore, notAfter, serial);
        using var theirs = request.Create(s_issuer, generator, notBefore, notAfter, serial);

        Assert.True(theirs.RawData.AsSpan().SequenceEqual(ours), name);
    }

    [Fact]
    public void An_ECDSA_CA_makes_the_same_certificate_but_for_its_random_signature_and_it_verifies()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest(s_issuer, caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var generator = X509SignatureGenerator.CreateForECDsa(caKey);
        var request = Leaf(extensions: true);
        var serial = CaCertificates.NewSerialNumber();
        var (notBefore, notAfter) = (DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(7));

        var ours = CaCertificates.CreateCertificateDer(request, ca.SubjectName, generator, notBefore, notAfter, serial);
        using var theirs = request.Create(ca.SubjectName, generator, notBefore, notAfter, serial);

        Assert.Equal(Tbs(theirs.RawData), Tbs(ours));
        using var leaf = X509CertificateLoader.LoadCertificate(ours);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(leaf), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
    }

    [Fact]
    public void NotAfter_before_notBefore_is_refused()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        Assert.Throws<ArgumentException>(() => CaCertificates.CreateCertificateDer(Leaf(false), s_issuer, X509SignatureGenerator.CreateForECDsa(caKey), now, now.AddSeconds(-1), [1]));
    }

    private static byte[] Tbs(byte[] certificate)
        => new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence().ReadEncodedValue().ToArray();
}
