using System.Security.Cryptography;
using Sndctl.Provisioning.Core.Internal;
using Sndctl.Provisioning.Tests.Shared;

namespace Sndctl.Provisioning.Core.Tests;

/// <summary>Hostile device CSRs: each refused with a reason, none throws, and only the checked bytes are forwarded.</summary>
public sealed class CraftedCsrTests
{
    private const string Hostname = "abc123def456.devices.example.com";

    public static TheoryData<string> Attacks() => [.. CraftedCsrs.All(Hostname).Keys];

    [Theory]
    [MemberData(nameof(Attacks))]
    public void Try_validate_crafted_CSR_refused_with_reason(string attack)
    {
        var pem = CraftedCsrs.All(Hostname)[attack];

        Assert.False(CertificateSigningRequests.TryValidate(pem, Hostname, out var der, out _, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.Empty(der);
    }

    [Fact]
    public void Try_validate_RSA_8192_refused_before_the_signature_is_checked()
    {
        var pem = CraftedCsrs.All(Hostname)["rsa-16384"];

        Assert.False(CertificateSigningRequests.TryValidate(pem, Hostname, out _, out _, out var error));
        Assert.Contains("16384-bit modulus (more than 4096)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Try_validate_valid_CSR_returns_exactly_the_checked_DER()
    {
        var der = EcCsr();

        Assert.True(CertificateSigningRequests.TryValidate(CraftedCsrs.Pem(der), Hostname, out var forwarded, out _, out var error), error);
        Assert.Equal(der, forwarded);
    }

    [Fact]
    public void Try_validate_thousands_of_mutated_CSRs_never_throw()
    {
        var random = new Random(20261201);
        var seeds = new[] { EcCsr(), RsaCsr() };
        var accepted = 0;
        for (var i = 0; i < 5_000; i++)
        {
            var mutated = CraftedCsrs.Mutate(seeds[i % seeds.Length], random);
            var pem = i % 10 == 0 ? CraftedCsrs.Pem(mutated).Insert(random.Next(40), "\u00e9") : CraftedCsrs.Pem(mutated);
            if (CertificateSigningRequests.TryValidate(pem, Hostname, out var der, out _, out var error))
            {
                accepted++;
                Assert.Equal(mutated, der);
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(error));
            }
        }

        // Almost every mutation breaks the DER or the signature; the few that survive are still whole requests.
        Assert.True(accepted < 250, $"{accepted} mutated requests were accepted");
    }

    private static byte[] EcCsr()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=" + Hostname, key, HashAlgorithmName.SHA256);
        var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        san.AddDnsName(Hostname);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequest();
    }

    private static byte[] RsaCsr()
    {
        using var rsa = RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=" + Hostname, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        san.AddDnsName(Hostname);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequest();
    }
}
