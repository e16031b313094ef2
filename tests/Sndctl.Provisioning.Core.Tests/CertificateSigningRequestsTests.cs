using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sndctl.Provisioning.Core.Internal;

namespace Sndctl.Provisioning.Core.Tests;

public sealed class CertificateSigningRequestsTests
{
    private const string Hostname = "abc123.devices.example.com";

    private static string Csr(AsymmetricAlgorithm key, string subject, params string[] dnsNames)
    {
        var request = key is RSA rsa
            ? new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(subject, (ECDsa)key, HashAlgorithmName.SHA256);
        if (dnsNames.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var name in dnsNames)
            {
                san.AddDnsName(name);
            }

            request.CertificateExtensions.Add(san.Build());
        }

        return request.CreateSigningRequestPem();
    }

    [Fact]
    public void Try_validate_device_hostname_P256_accepts_and_returns_key()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.True(CertificateSigningRequests.TryValidate(Csr(key, "CN=" + Hostname, Hostname), Hostname, out var der, out var spki, out var error), error);
        Assert.NotEmpty(der);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), spki);
    }

    [Fact]
    public void Try_validate_other_name_refused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.False(CertificateSigningRequests.TryValidate(Csr(key, "CN=" + Hostname, Hostname, "evil.example.com"), Hostname, out _, out _, out var error));
        Assert.Contains("only the device hostname", error);
        Assert.False(CertificateSigningRequests.TryValidate(Csr(key, "CN=evil.example.com"), Hostname, out _, out _, out error));
        Assert.Contains("common name", error);
    }

    [Fact]
    public void Try_validate_without_the_hostname_in_a_subjectAltName_refused_before_the_CA_sees_it()
    {
        // Pebble (and RFC 8555 CAs) refuse a CN-only CSR at finalize, after an order was spent.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.False(CertificateSigningRequests.TryValidate(Csr(key, "CN=" + Hostname), Hostname, out _, out _, out var error));
        Assert.Contains("subjectAltName=DNS:" + Hostname, error);
        Assert.False(CertificateSigningRequests.TryValidate(Csr(key, "O=Example"), Hostname, out _, out _, out error));
        Assert.Contains("subjectAltName", error);
        Assert.True(CertificateSigningRequests.TryValidate(Csr(key, "", Hostname), Hostname, out _, out _, out error), error); // No CN is fine.
    }

    [Fact]
    public void Try_validate_RSA_1024_refused()
    {
        using var key = RSA.Create(1024);
        Assert.False(CertificateSigningRequests.TryValidate(Csr(key, "CN=" + Hostname), Hostname, out _, out _, out var error));
        Assert.Contains("2048", error);
    }

    [Fact]
    public void Try_validate_forged_signature_or_garbage_refused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = Csr(key, "CN=" + Hostname);
        var der = Convert.FromBase64String(string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        der[^3] ^= 0x55; // inside the signature
        var forged = new string(PemEncoding.Write("CERTIFICATE REQUEST", der));
        Assert.False(CertificateSigningRequests.TryValidate(forged, Hostname, out _, out _, out var error));
        Assert.Contains("signature does not verify", error);
        Assert.False(CertificateSigningRequests.TryValidate("not a csr", Hostname, out _, out _, out _));
        Assert.False(CertificateSigningRequests.TryValidate(new string('A', 20_000), Hostname, out _, out _, out error));
        Assert.Contains("longer", error);
    }

    [Theory]
    [InlineData(DeviceKeyAlgorithm.EcdsaP256)]
    [InlineData(DeviceKeyAlgorithm.Rsa2048)]
    public void Create_with_new_key_makes_verifiable_CSR_for_hostname(DeviceKeyAlgorithm algorithm)
    {
        var (der, keyPem, publicKey) = CertificateSigningRequests.CreateWithNewKey(Hostname, algorithm);
        var request = CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256, out _, CertificateRequestLoadOptions.Default);
        Assert.Contains(Hostname, request.SubjectName.Name);
        Assert.Contains("PRIVATE KEY", keyPem);
        Assert.Equal(request.PublicKey.ExportSubjectPublicKeyInfo(), publicKey);
    }
}
