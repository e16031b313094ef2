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

    [Benchmark]
    public X509Certificate2 SignDeviceCertificate()
    {
        var request = PrivateCaCertificateIssuer.BuildLeafRequest("abc123def456.devices.example.com", _deviceKey, _ca.Issuer);
        var now = DateTimeOffset.UtcNow;
        return _ca.Sign(request, now, now.AddDays(90), CaCertificates.NewSerialNumber());
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
