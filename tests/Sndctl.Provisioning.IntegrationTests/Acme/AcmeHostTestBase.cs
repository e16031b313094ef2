using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The ACME host tests' kit: the reference host in ACME mode, driven over real HTTP as devices and admins
/// drive it, against a real Pebble that validates DNS-01 through pebble-challtestsrv (Pebble's default 5 %
/// nonce rejection on). Failure paths swap in a DNS provider that writes to a DNS server Pebble does not use.
/// The tests are split by feature (issuance, failures, fallback CAs, the budget, renewal information).
/// </summary>
public abstract class AcmeHostTestBase : IAsyncLifetime
{
    protected AcmeLab Lab { get; } = AcmeLab.Require();
    protected List<ProvisioningHostFactory> Hosts { get; } = [];
    protected List<AcmeProxy> Proxies { get; } = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var host in Hosts)
        {
            await host.DisposeAsync();
            host.DeleteData();
        }

        foreach (var proxy in Proxies)
        {
            await proxy.DisposeAsync();
        }
    }

    protected static string DeviceCsr(string hostname)
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostname}", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostname);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequestPem();
    }

    protected Dictionary<string, string?> Fallback() => new()
    {
        ["Provisioning:Acme:Fallbacks:0:DirectoryUrl"] = Lab.EabDirectory.AbsoluteUri,
        ["Provisioning:Acme:Fallbacks:0:ExternalAccountKeyId"] = Lab.EabKeyId,
        ["Provisioning:Acme:Fallbacks:0:ExternalAccountHmacKey"] = Lab.EabHmacKey,
    };

    protected ProvisioningHostFactory StartHost(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, Uri? directory = null, string? dataDirectory = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Provisioning:BaseDomain"] = "devices.example.test",
            ["Provisioning:Issuer"] = "Acme",
            ["Provisioning:Acme:DirectoryUrl"] = (directory ?? Lab.Directory).AbsoluteUri,
            ["Provisioning:Acme:AcceptTermsOfService"] = "true",
            ["Provisioning:Acme:Email"] = "ops@example.test",
            ["Provisioning:Acme:TrustedRootFile"] = Lab.TlsRootFile,
            ["Provisioning:Acme:PropagationNameservers:0"] = Lab.ChallTestSrvDns,
            ["Provisioning:Dns:Provider"] = "ChallTestSrv",
            ["Provisioning:Dns:ChallTestSrv:ManagementUrl"] = Lab.ChallTestSrv.AbsoluteUri,
        };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        var host = new ProvisioningHostFactory(dataDirectory, all) { TestServices = services };
        Hosts.Add(host);
        return host;
    }

    protected async Task<AcmeProxy> StartProxyAsync()
    {
        var proxy = await AcmeProxy.StartAsync(Lab);
        Proxies.Add(proxy);
        return proxy;
    }

    protected static async Task<ProvisionResponse> ProvisionAsync(HttpClient client, HttpRequestMessage request)
    {
        var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<ProvisionResponse>())!;
    }

    protected async Task AssertValidForAsync(ProvisionResponse body, string hostname, bool fallback = false)
    {
        var (root, intermediate) = await Lab.GetIssuingCertificatesAsync(eab: fallback);
        Assert.Equal(X509ChainStatusFlags.NoError, AcmeLab.VerifyChain(body.Certificate, root));
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(body.Certificate);
        Assert.Equal(intermediate.Thumbprint, chain[1].Thumbprint);
        using var leaf = body.PrivateKey is null ? X509Certificate2.CreateFromPem(body.Certificate) : X509Certificate2.CreateFromPem(body.Certificate, body.PrivateKey);
        Assert.Equal([hostname], leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.True(body.PrivateKey is null || leaf.HasPrivateKey);
    }

    protected static async Task AssertNothingStoredAsync(ProvisioningHostFactory host, CreatedDevice device)
    {
        using var admin = host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        Assert.Equal("pending", details.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, details.GetProperty("certificate").ValueKind);
        Assert.Equal(0, details.GetProperty("certificates").GetArrayLength());
        Assert.Contains(details.GetProperty("events").EnumerateArray(), e => e.GetProperty("type").GetString() == AuditEventTypes.CertificateFailed);
    }

    /// <summary>What the newest certificate.failed event of the device says (the operator's view of a failure).</summary>
    protected static async Task<string> FailureEventAsync(ProvisioningHostFactory host, CreatedDevice device)
    {
        using var admin = host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        return details.GetProperty("events").EnumerateArray().First(e => e.GetProperty("type").GetString() == AuditEventTypes.CertificateFailed).GetProperty("details").GetString()!;
    }

    protected static async Task<string> ReadStateAsync(ProvisioningHostFactory host, string key)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<IIssuerStateStore>().GetAsync(key, CancellationToken.None))!;
    }

    protected static string SerialOf(string pem)
    {
        using var leaf = X509Certificate2.CreateFromPem(pem);
        return leaf.SerialNumber;
    }

    /// <summary>Places TXT records in a given challtestsrv and remembers what it created and deleted.</summary>
    protected sealed class RecordingDnsProvider(Uri challTestSrv) : IDnsProvider
    {
        public ConcurrentBag<string> Created { get; } = [];

        public ConcurrentBag<string> Deleted { get; } = [];

        public void Replace(IServiceCollection services)
        {
            services.RemoveAll<IDnsProvider>();
            services.AddSingleton<IDnsProvider>(this);
        }

        public async Task<DnsTxtRecord> CreateTxtRecordAsync(string name, string value, CancellationToken cancellationToken)
        {
            await AcmeLab.SetTxtAsync(challTestSrv, name, value);
            Created.Add(name + " " + value);
            return new DnsTxtRecord(name, value, null);
        }

        public async Task DeleteTxtRecordAsync(DnsTxtRecord record, CancellationToken cancellationToken)
        {
            await AcmeLab.ClearTxtAsync(challTestSrv, record.Name);
            Deleted.Add(record.Name + " " + record.Value);
        }

        public Task SetAddressRecordsAsync(string name, IReadOnlyList<System.Net.IPAddress> addresses, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
