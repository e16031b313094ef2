using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Tests;

public sealed class PrivateCaCertificateIssuerTests
{
    private const string Hostname = "abc123def456.devices.example.com";

    private static ServiceProvider Build(Action<PrivateCaOptions>? configure = null)
    {
        string? stored = null;
        var state = new Mock<IIssuerStateStore>();
        state.Setup(s => s.GetAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(() => stored);
        state.Setup(s => s.GetOrAddAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string _, string value, CancellationToken _) => stored ??= value);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddScoped(_ => state.Object);
        services.AddScoped(_ => Mock.Of<IDeviceStore>());
        services.AddScoped(_ => Mock.Of<ICertificateStore>());
        services.AddScoped(_ => Mock.Of<IAuditEventStore>());
        services.AddScoped(_ => Mock.Of<IIssuanceLeaseStore>());
        services.AddScoped(_ => Mock.Of<IIssuanceJournalStore>());
        services.AddScoped(_ => Mock.Of<IRateLimitStore>());
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com").UsePrivateCaIssuer(configure).UsePrivateCaIssuer(configure);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static byte[] Csr(out ECDsa key)
    {
        key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest("CN=" + Hostname, key, HashAlgorithmName.SHA256).CreateSigningRequest();
    }

    private static async Task<(X509Certificate2 Leaf, X509Certificate2 Issuer)> IssueAsync(ServiceProvider provider)
    {
        await using var scope = provider.CreateAsyncScope();
        var issuer = scope.ServiceProvider.GetRequiredService<ICertificateIssuer>();
        var issued = await issuer.IssueAsync(new CertificateIssueRequest(Hostname, Csr(out var key), null), default);
        key.Dispose();
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(issued.CertificatePem);
        return (chain[0], chain[1]);
    }

    [Fact]
    public async Task Using_the_private_CA_twice_keeps_one_issuer_that_issues_a_server_auth_leaf_for_the_hostname()
    {
        await using var provider = Build();
        var (leaf, issuer) = await IssueAsync(provider);
        Assert.Equal("PrivateCa", provider.CreateScope().ServiceProvider.GetRequiredService<ICertificateIssuer>().Name);
        Assert.Equal([Hostname], leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.Equal(["1.3.6.1.5.5.7.3.1"], leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value));
        Assert.False(leaf.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal(issuer.SubjectName.Name, leaf.IssuerName.Name);
        Assert.True(leaf.GetSerialNumber().Length >= 16);
        Assert.InRange((leaf.NotAfter - leaf.NotBefore).TotalDays, 90, 90.01);
    }

    [Fact]
    public async Task Key_algorithm_RSA_2048_signs_with_RSA()
    {
        await using var provider = Build(o => o.KeyAlgorithm = PrivateCaKeyAlgorithm.Rsa2048);
        var (leaf, issuer) = await IssueAsync(provider);
        Assert.Equal("1.2.840.113549.1.1.11", leaf.SignatureAlgorithm.Value); // sha256WithRSAEncryption
        Assert.NotNull(issuer.GetRSAPublicKey());
    }

    [Fact]
    public async Task Existing_CA_from_PEM_files_issues_under_it_mismatched_key_refused()
    {
        var directory = Directory.CreateTempSubdirectory("sndctl-ca-").FullName;
        try
        {
            using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var rootRequest = new CertificateRequest("CN=Existing Root", rootKey, HashAlgorithmName.SHA256);
            rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            using var root = rootRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
            using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var issuerRequest = new CertificateRequest("CN=Existing Issuer", issuerKey, HashAlgorithmName.SHA256);
            issuerRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            using var issuerCertificate = issuerRequest.Create(root, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(4), [1, 2, 3, 4]);
            File.WriteAllText(Path.Combine(directory, "root.pem"), root.ExportCertificatePem());
            File.WriteAllText(Path.Combine(directory, "issuer.pem"), issuerCertificate.ExportCertificatePem());
            File.WriteAllText(Path.Combine(directory, "issuer.key"), issuerKey.ExportPkcs8PrivateKeyPem());

            void Files(PrivateCaOptions o)
            {
                o.RootCertificateFile = Path.Combine(directory, "root.pem");
                o.IssuerCertificateFile = Path.Combine(directory, "issuer.pem");
                o.IssuerKeyFile = Path.Combine(directory, "issuer.key");
            }

            await using (var provider = Build(Files))
            {
                var (leaf, issuer) = await IssueAsync(provider);
                Assert.Equal("CN=Existing Issuer", issuer.Subject);
                Assert.Equal("CN=Existing Issuer", leaf.Issuer);
            }

            using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            File.WriteAllText(Path.Combine(directory, "issuer.key"), otherKey.ExportPkcs8PrivateKeyPem());
            await using (var provider = Build(Files))
            {
                var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => IssueAsync(provider));
                Assert.Contains("does not match", ex.Message);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Options_only_some_files_fail_with_fix()
    {
        using var provider = Build(o => o.RootCertificateFile = "/nonexistent/root.pem");
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => { _ = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<PrivateCaOptions>>().Value; });
        Assert.Contains("go together", ex.Message);
    }
}
