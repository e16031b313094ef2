using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Core.Internal;
using Sndctl.Provisioning.PrivateCa;
using Sndctl.Provisioning.PrivateCa.Internal;

namespace Sndctl.Provisioning.Benchmarks;

/// <summary>Device-secret verification: HMAC-SHA256 and a constant-time compare.</summary>
[MemoryDiagnoser]
public class SecretVerificationBenchmarks
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private string _secret = "";
    private byte[] _hash = [];

    [GlobalSetup]
    public void Setup()
    {
        _secret = DeviceNames.NewSecret();
        _hash = DeviceSecretHasher.Hash(_key, _secret);
    }

    [Benchmark]
    public bool VerifySecret() => CryptographicOperations.FixedTimeEquals(DeviceSecretHasher.Hash(_key, _secret), _hash);
}

/// <summary>Signing a device certificate with the private CA, for each CA key type.</summary>
[MemoryDiagnoser]
public class PrivateCaSigningBenchmarks
{
    private LoadedCa _ca = null!;
    private PublicKey _deviceKey = null!;

    [Params(PrivateCaKeyAlgorithm.EcdsaP256, PrivateCaKeyAlgorithm.Rsa2048)]
    public PrivateCaKeyAlgorithm CaKey { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var (root, rootKey, issuer, issuerKey) = CaCertificates.CreateHierarchy("Bench Root", "Bench Issuer", CaKey, DateTimeOffset.UtcNow);
        rootKey.Dispose();
        _ca = new LoadedCa(root, issuer, issuerKey);
        using var device = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _deviceKey = new CertificateRequest("CN=x", device, HashAlgorithmName.SHA256).PublicKey;
    }

    /// <summary>Signed and loaded back as an X509Certificate2 (OpenSSL decodes it, public key included).</summary>
    [Benchmark]
    public X509Certificate2 SignDeviceCertificate()
    {
        var request = PrivateCaCertificateIssuer.BuildLeafRequest("abc123def456.devices.example.com", _deviceKey, _ca.Issuer);
        var now = DateTimeOffset.UtcNow;
        return _ca.Sign(request, now, now.AddDays(90), CaCertificates.NewSerialNumber());
    }

    /// <summary>Signed to DER only, as device issuance does.</summary>
    [Benchmark]
    public byte[] SignDeviceCertificateDer()
    {
        var request = PrivateCaCertificateIssuer.BuildLeafRequest("abc123def456.devices.example.com", _deviceKey, _ca.Issuer);
        var now = DateTimeOffset.UtcNow;
        return _ca.SignToDer(request, now, now.AddDays(90), CaCertificates.NewSerialNumber());
    }

    [GlobalCleanup]
    public void Cleanup() => _ca.Dispose();
}

/// <summary>Making a device key and its CSR, as the server does for devices that send none.</summary>
[MemoryDiagnoser]
public class KeyGenerationBenchmarks
{
    [Params(DeviceKeyAlgorithm.EcdsaP256, DeviceKeyAlgorithm.Rsa2048)]
    public DeviceKeyAlgorithm Algorithm { get; set; }

    [Benchmark]
    public string KeyAndCsr() => CertificateSigningRequests.CreateWithNewKey("abc123def456.devices.example.com", Algorithm).PrivateKeyPem;
}

/// <summary>Reading the fields the server keeps from an issued chain: OpenSSL's X509Certificate2 against AsnReader.</summary>
[MemoryDiagnoser]
public class CertificateReadingBenchmarks
{
    private string _pem = "";

    [GlobalSetup]
    public void Setup()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=abc123def456.devices.example.com", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("abc123def456.devices.example.com");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(90));
        _pem = certificate.ExportCertificatePem();
    }

    [Benchmark(Baseline = true)]
    public string LoadWithX509Certificate2()
    {
        using var leaf = X509Certificate2.CreateFromPem(_pem);
        _ = leaf.PublicKey.ExportSubjectPublicKeyInfo();
        _ = leaf.MatchesHostname("abc123def456.devices.example.com", allowWildcards: false, allowCommonName: false);
        return leaf.SerialNumber + leaf.GetCertHashString(HashAlgorithmName.SHA256) + leaf.NotAfter.Ticks;
    }

    [Benchmark]
    public string ReadWithAsnReader()
    {
        var leaf = CertificateFields.ReadFirst(_pem);
        _ = leaf.SubjectPublicKeyInfo;
        _ = leaf.Names("abc123def456.devices.example.com");
        return leaf.SerialNumber + leaf.Thumbprint + leaf.NotAfter.Ticks;
    }
}
