using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sndctl.Provisioning.PrivateCa.Internal;
using Sndctl.Provisioning.Tests.Shared;

namespace Sndctl.Provisioning.PrivateCa.Tests;

/// <summary>Hostile private-IP CSRs: malformed (400) or denied with a reason, never an exception.</summary>
public sealed class CraftedCsrPolicyTests
{
    public static TheoryData<string> Attacks() => [.. CraftedCsrs.All("10.0.0.1").Keys];

    [Theory]
    [MemberData(nameof(Attacks))]
    public void Check_crafted_CSR_malformed_or_denied_with_reason(string attack)
    {
        var check = CsrPolicy.Check(CraftedCsrs.All("10.0.0.1")[attack]);

        Assert.Null(check.PublicKey);
        Assert.False(string.IsNullOrWhiteSpace(check.MalformedReason ?? check.DenialReason));
    }

    [Theory]
    [InlineData("multi-valued-rdn", "multi-valued RDN")]
    [InlineData("duplicate-cn", "more than one CN")]
    [InlineData("ed25519", "Ed25519 is not accepted")]
    [InlineData("ed448", "Ed448 is not accepted")]
    [InlineData("explicit-ec-parameters", "explicit curve parameters")]
    [InlineData("rsa-8192", "more than 4096")]
    [InlineData("sha1-signature", "SHA-256, SHA-384 or SHA-512")]
    public void Check_parsable_but_unacceptable_denied_with_the_reason(string attack, string reason)
    {
        var check = CsrPolicy.Check(CraftedCsrs.All("10.0.0.1")[attack]);

        Assert.Null(check.MalformedReason);
        Assert.Contains(reason, check.DenialReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("trailing-text")]
    [InlineData("two-blocks")]
    [InlineData("certificate-label")]
    [InlineData("other-block-first")]
    [InlineData("trailing-der")]
    [InlineData("truncated")]
    [InlineData("non-utf8-cn")]
    public void Check_not_one_well_formed_request_malformed(string attack)
        => Assert.NotNull(CsrPolicy.Check(CraftedCsrs.All("10.0.0.1")[attack]).MalformedReason);

    [Fact]
    public void Check_thousands_of_mutated_CSRs_never_throw()
    {
        var random = new Random(1201);
        var seeds = new[] { Der(CsrPolicyTests.Csr("192.168.1.10", ["192.168.1.10"])), CraftedCsrs.Valid("10.0.0.1") };
        for (var i = 0; i < 5_000; i++)
        {
            var check = CsrPolicy.Check(CraftedCsrs.Pem(CraftedCsrs.Mutate(seeds[i % seeds.Length], random)));
            Assert.True(check.PublicKey is not null || !string.IsNullOrWhiteSpace(check.MalformedReason ?? check.DenialReason));
        }
    }

    [Fact]
    public void Check_openssl_style_CSR_still_accepted()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=192.168.1.10", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Parse("192.168.1.10"));
        request.CertificateExtensions.Add(san.Build());

        Assert.Equal(IPAddress.Parse("192.168.1.10"), CsrPolicy.Check("\n" + request.CreateSigningRequestPem() + "\n\n").Address);
    }

    private static byte[] Der(string pem) => PemEncoding.TryFind(pem, out var f) ? Convert.FromBase64String(pem[f.Base64Data]) : [];
}
