using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sndctl.Provisioning.PrivateCa.Internal;

namespace Sndctl.Provisioning.PrivateCa.Tests;

/// <summary>Every rule of the private-IP CSR policy, each refused with a message that says what to fix.</summary>
public sealed class CsrPolicyTests
{
    [Theory]
    [InlineData("192.168.1.10")]
    [InlineData("10.0.0.5")]
    [InlineData("172.31.255.254")]
    public void A_private_IP_with_a_matching_CN_is_accepted(string ip)
    {
        var check = CsrPolicy.Check(Csr(ip, [ip]));

        Assert.Null(check.MalformedReason);
        Assert.Null(check.DenialReason);
        Assert.Equal(IPAddress.Parse(ip), check.Address);
    }

    [Fact]
    public void A_CSR_without_subjectAltName_takes_its_IP_from_the_CN_as_openssl_req_makes_it()
    {
        var check = CsrPolicy.Check(Csr("192.168.1.10", sans: null));

        Assert.Null(check.DenialReason);
        Assert.Equal(IPAddress.Parse("192.168.1.10"), check.Address);
    }

    [Theory]
    [InlineData("8.8.8.8", "8.8.8.8 is not a private IPv4 address")]
    [InlineData("172.32.0.1", "172.32.0.1 is not a private IPv4 address")]
    [InlineData("192.169.0.1", "is not a private IPv4 address")]
    public void Public_addresses_are_denied(string ip, string expected)
        => AssertDenied(Csr(ip, [ip]), expected);

    [Fact]
    public void Two_IPs_are_denied() => AssertDenied(Csr("192.168.1.10", ["192.168.1.10", "192.168.1.11"]), "names 2 IP addresses (192.168.1.10, 192.168.1.11): exactly one is allowed");

    [Fact]
    public void A_DNS_name_is_denied() => AssertDenied(Csr("192.168.1.10", ["192.168.1.10"], dns: "printer.local"), "DNS name(s) printer.local");

    [Fact]
    public void An_email_address_or_URI_is_denied()
    {
        AssertDenied(Csr("192.168.1.10", ["192.168.1.10"], email: "ops@example.com"), "e-mail addresses, URIs or other names");
        AssertDenied(Csr("192.168.1.10", ["192.168.1.10"], uri: "https://example.com/"), "e-mail addresses, URIs or other names");
    }

    [Fact]
    public void RSA_1024_is_denied()
    {
        using var key = RSA.Create(1024);
        AssertDenied(Csr("192.168.1.10", ["192.168.1.10"], key: key), "The key is RSA-1024: use RSA with 2048 to 4096 bits");
    }

    [Fact]
    public void ECDSA_P521_is_denied()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP521);
        AssertDenied(Csr("192.168.1.10", ["192.168.1.10"], key: key), "ECDSA on P-256 or P-384");
    }

    [Fact]
    public void RSA_2048_and_P384_are_accepted()
    {
        using var rsa = RSA.Create(2048);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Assert.Null(CsrPolicy.Check(Csr("10.1.2.3", ["10.1.2.3"], key: rsa)).DenialReason);
        Assert.Null(CsrPolicy.Check(Csr("10.1.2.3", ["10.1.2.3"], key: p384)).DenialReason);
    }

    [Fact]
    public void A_CN_that_is_not_the_IP_is_denied() => AssertDenied(Csr("192.168.1.99", ["192.168.1.10"]), "The CSR's CN '192.168.1.99' is not its IP address 192.168.1.10: set CN = 192.168.1.10");

    [Fact]
    public void A_CSR_asking_for_CA_true_is_denied()
        => AssertDenied(Csr("192.168.1.10", ["192.168.1.10"], extra: new X509BasicConstraintsExtension(true, false, 0, true)), "asks for a CA certificate (basicConstraints CA:TRUE)");

    [Fact]
    public void Other_key_usages_are_denied()
    {
        AssertDenied(Csr("192.168.1.10", ["192.168.1.10"], extra: new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true)), "keyCertSign or cRLSign");
        AssertDenied(Csr("192.168.1.10", ["192.168.1.10"], extra: new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false)), "only serverAuth is issued");
    }

    [Fact]
    public void Server_key_usages_as_in_the_openssl_example_are_accepted()
    {
        var check = CsrPolicy.Check(Csr(
            "192.168.1.10",
            ["192.168.1.10"],
            extra: new X509KeyUsageExtension(X509KeyUsageFlags.NonRepudiation | X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false)));

        Assert.Null(check.DenialReason);
    }

    [Fact]
    public void A_forged_signature_is_denied()
    {
        var pem = Csr("192.168.1.10", ["192.168.1.10"]);
        var der = PemEncoding.Find(pem) is var fields ? Convert.FromBase64String(pem[fields.Base64Data]) : [];
        der[^5] ^= 0x5A; // A byte of the signature.

        AssertDenied(PemEncoding.WriteString("CERTIFICATE REQUEST", der), "signature does not verify");
    }

    [Fact]
    public void No_IP_at_all_is_denied() => AssertDenied(Csr("printer", sans: null), "The CSR names no IP address");

    [Theory]
    [InlineData("not a csr")]
    [InlineData("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")]
    [InlineData("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----")]
    public void Malformed_content_is_not_a_decision_but_a_bad_request(string content)
    {
        var check = CsrPolicy.Check(content);

        Assert.NotNull(check.MalformedReason);
        Assert.Null(check.DenialReason);
    }

    [Fact]
    public void The_CSR_intermediates_name_constraints_permit_only_the_private_ranges_and_exclude_DNS_names_email_URIs_and_IPv6()
    {
        var extension = CaCertificates.PrivateIpNameConstraints();

        Assert.True(extension.Critical);
        Assert.Equal("2.5.29.30", extension.Oid!.Value);
        // SEQUENCE { [0] { [7] 0A000000/FF000000, [7] AC100000/FFF00000, [7] C0A80000/FFFF0000 }
        //            [1] { [2] "", [1] "", [6] "", [7] ::/0 } }
        Assert.Equal(
            "3058A024300A87080A000000FF000000300A8708AC100000FFF00000300A8708C0A80000FFFF0000A1303002820030028100300286003022872" + "0" + new string('0', 64),
            Convert.ToHexString(extension.RawData));
    }

    [Fact]
    public void Extensions_the_policy_does_not_issue_are_denied_whatever_their_size()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=192.168.1.10", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Parse("192.168.1.10"));
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.99999.1", new byte[10_000], false));
        AssertDenied(request.CreateSigningRequestPem(), "1.3.6.1.4.1.99999.1");

        var withKeyId = new CertificateRequest("CN=192.168.1.10", key, HashAlgorithmName.SHA256);
        withKeyId.CertificateExtensions.Add(san.Build());
        withKeyId.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(withKeyId.PublicKey, false));
        AssertDenied(withKeyId.CreateSigningRequestPem(), "only subjectAltName, keyUsage, extendedKeyUsage and basicConstraints");

        var allowed = new CertificateRequest("CN=192.168.1.10", key, HashAlgorithmName.SHA256);
        allowed.CertificateExtensions.Add(san.Build());
        allowed.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        allowed.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        allowed.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var check = CsrPolicy.Check(allowed.CreateSigningRequestPem());
        Assert.Null(check.DenialReason);
        Assert.Null(check.MalformedReason);
    }

    [Fact]
    public void Under_the_CSR_intermediates_constraint_issued_leaves_verify_and_a_leaf_for_a_DNS_name_does_not()
    {
        var now = DateTimeOffset.UtcNow;
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=Test Root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var root = rootRequest.CreateSelfSigned(now.AddHours(-1), now.AddYears(1));

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Test Webhook CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(CaCertificates.PrivateIpNameConstraints());
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var caPublic = caRequest.Create(root, now.AddHours(-1), now.AddMonths(6), [1]);
        using var ca = caPublic.CopyWithPrivateKey(caKey);

        // What the service issues: the address in a critical SAN, no CN.
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issued = PrivateCsrService.BuildLeaf("192.168.1.10", new PublicKey(leafKey), ca, crl: null).Create(ca, now.AddMinutes(-5), now.AddDays(30), [2]);
        Assert.Equal(X509ChainStatusFlags.NoError, ChainStatus(issued, ca, root));

        // What a thief of the intermediate's key would sign: a DNS name. Refused by the constraint, SAN or CN.
        var forged = new CertificateRequest("CN=bank.example.com", leafKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("bank.example.com");
        forged.CertificateExtensions.Add(san.Build());
        using var forgedLeaf = forged.Create(ca, now.AddMinutes(-5), now.AddDays(30), [3]);
        Assert.True(ChainStatus(forgedLeaf, ca, root).HasFlag(X509ChainStatusFlags.HasExcludedNameConstraint));

        using var forgedCn = new CertificateRequest("CN=bank.example.com", leafKey, HashAlgorithmName.SHA256).Create(ca, now.AddMinutes(-5), now.AddDays(30), [4]);
        Assert.NotEqual(X509ChainStatusFlags.NoError, ChainStatus(forgedCn, ca, root));
    }

    private static X509ChainStatusFlags ChainStatus(X509Certificate2 leaf, X509Certificate2 intermediate, X509Certificate2 root)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.ExtraStore.Add(intermediate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.Build(leaf);
        return chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
    }

    [Fact]
    public void The_device_CA_name_constraints_permit_only_the_base_domain()
    {
        var extension = CaCertificates.DeviceNameConstraints("devices.example.com");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=test", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(extension);
        using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));

        Assert.Equal(["devices.example.com"], CaCertificates.PermittedDnsNames(ca));
    }

    private static void AssertDenied(string pem, string expected)
    {
        var check = CsrPolicy.Check(pem);
        Assert.Null(check.MalformedReason);
        Assert.NotNull(check.DenialReason);
        Assert.Contains(expected, check.DenialReason, StringComparison.Ordinal);
        Assert.Null(check.PublicKey);
    }

    internal static string Csr(string commonName, string[]? sans, AsymmetricAlgorithm? key = null, string? dns = null, string? email = null, string? uri = null, X509Extension? extra = null)
    {
        using var owned = key is null ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : null;
        var signer = key ?? owned!;
        var subject = new X500DistinguishedName("CN=" + commonName);
        var request = signer switch
        {
            RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            ECDsa ecdsa => new CertificateRequest(subject, ecdsa, HashAlgorithmName.SHA256),
            _ => throw new NotSupportedException(),
        };
        if (sans is not null || dns is not null || email is not null || uri is not null)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var ip in sans ?? [])
            {
                san.AddIpAddress(IPAddress.Parse(ip));
            }

            if (dns is not null)
            {
                san.AddDnsName(dns);
            }

            if (email is not null)
            {
                san.AddEmailAddress(email);
            }

            if (uri is not null)
            {
                san.AddUri(new Uri(uri));
            }

            request.CertificateExtensions.Add(san.Build());
        }

        if (extra is not null)
        {
            request.CertificateExtensions.Add(extra);
        }

        return request.CreateSigningRequestPem();
    }
}
