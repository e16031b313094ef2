using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// Issuance through the real peer: register and renew, device CSRs, CNAMEs, each DNS provider placing what Pebble validates, the account kept across restarts, revocation at the CA, a crowd of devices, and the 202 of a slow issuance.
/// </summary>
public sealed class AcmeIssuanceTests : AcmeHostTestBase
{
    [Fact]
    public async Task Registers_and_renews_with_certificates_that_chain_to_pebbles_root()
    {
        var host = StartHost();
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        var first = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        await AssertValidForAsync(first, device.Hostname);
        Assert.Equal(first.Certificate, (await ProvisionAsync(client, ProvisioningHostFactory.Register(device))).Certificate);

        // Into the renewal window (Pebble's certificates last 5 years; renewal starts in the last third).
        host.Time.Advance(first.RenewAfter - host.Time.GetUtcNow() + TimeSpan.FromDays(1));
        var renewed = await ProvisionAsync(client, ProvisioningHostFactory.Renew(device));
        await AssertValidForAsync(renewed, device.Hostname);
        Assert.NotEqual(SerialOf(first.Certificate), SerialOf(renewed.Certificate));

        using var admin = host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        Assert.Equal("active", details.GetProperty("status").GetString());
        Assert.Equal(2, details.GetProperty("certificates").GetArrayLength());
        Assert.All(details.GetProperty("certificates").EnumerateArray(), c => Assert.Equal("Acme", c.GetProperty("issuer").GetString()));
    }

    [Fact]
    public async Task Uses_a_device_CSR_as_sent_and_returns_no_key()
    {
        var host = StartHost();
        var device = await host.CreateDeviceAsync();
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={device.Hostname}", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(device.Hostname);
        request.CertificateExtensions.Add(san.Build());
        using var client = host.Device();

        var body = await ProvisionAsync(client, ProvisioningHostFactory.Register(device, csr: request.CreateSigningRequestPem()));

        Assert.Null(body.PrivateKey);
        using var leaf = X509Certificate2.CreateFromPem(body.Certificate);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), leaf.PublicKey.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public async Task Follows_a_CNAME_at_acme_challenge_and_writes_the_record_where_it_points()
    {
        var dns = new RecordingDnsProvider(Lab.ChallTestSrv);
        var host = StartHost(services: services => dns.Replace(services));
        var device = await host.CreateDeviceAsync();
        var target = $"{device.DeviceId}.acme-delegated.example.test";
        await AcmeLab.SetCnameAsync(Lab.ChallTestSrv, "_acme-challenge." + device.Hostname, target);
        using var client = host.Device();

        var body = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));

        await AssertValidForAsync(body, device.Hostname);
        Assert.StartsWith(target + " ", Assert.Single(dns.Created), StringComparison.Ordinal);
        Assert.Equal(dns.Created, dns.Deleted);
    }

    [Fact]
    public async Task Issues_through_Cloudflare_DNS_with_Pebble_validating_what_the_provider_placed()
    {
        await using var cloudflare = await FakeCloudflare.StartAsync();
        cloudflare.ChallTestSrv = Lab.ChallTestSrv; // Records placed through the API land in Pebble's DNS.
        cloudflare.Tokens["cf-token-for-the-host-0123456789"] = (["zone:read", "dns:edit"], "active");
        var zoneId = cloudflare.AddZone("example.test");
        var host = StartHost(new()
        {
            ["Provisioning:Dns:Provider"] = "Cloudflare",
            ["Provisioning:Dns:ChallTestSrv:ManagementUrl"] = null,
            ["Provisioning:Dns:Cloudflare:ApiToken"] = "cf-token-for-the-host-0123456789",
            ["Provisioning:Dns:Cloudflare:BaseUrl"] = cloudflare.BaseUrl.AbsoluteUri,
        });
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        var body = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));

        await AssertValidForAsync(body, device.Hostname);
        Assert.Contains(cloudflare.Requests, r => r.Method == "POST" && r.Path == $"/client/v4/zones/{zoneId}/dns_records" && r.Body.Contains("_acme-challenge." + device.Hostname, StringComparison.Ordinal));
        Assert.Contains(cloudflare.Requests, r => r.Method == "DELETE");
        Assert.Empty(cloudflare.Records);
        var health = await client.GetFromJsonAsync<JsonElement>("/api/health");
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("dns").GetProperty("status").GetString());
        Assert.DoesNotContain(host.Logs, l => l.Contains("cf-token-for-the-host-0123456789", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Issues_through_Route53_DNS_with_Pebble_validating_what_the_provider_placed()
    {
        await using var route53 = await FakeRoute53.StartAsync();
        route53.ChallTestSrv = Lab.ChallTestSrv; // Record sets changed through the API land in Pebble's DNS.
        route53.Keys["AKIAHOSTTEST00000001"] = ("host/Route53+Secret/0123456789", ["route53:ListHostedZonesByName", "route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets", "route53:GetChange"], null);
        route53.AddZone("example.test", isPrivate: true);
        var zoneId = route53.AddZone("example.test");
        var host = StartHost(new()
        {
            ["Provisioning:Dns:Provider"] = "Route53",
            ["Provisioning:Dns:ChallTestSrv:ManagementUrl"] = null,
            ["Provisioning:Dns:Route53:AccessKeyId"] = "AKIAHOSTTEST00000001",
            ["Provisioning:Dns:Route53:SecretAccessKey"] = "host/Route53+Secret/0123456789",
            ["Provisioning:Dns:Route53:ServiceUrl"] = route53.ServiceUrl.AbsoluteUri,
            ["Provisioning:Dns:Route53:SyncPollInterval"] = "00:00:00.05",
        });
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        var body = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));

        await AssertValidForAsync(body, device.Hostname);
        Assert.Contains(route53.Requests, r => r.Method == "POST" && r.RawTarget == $"/2013-04-01/hostedzone/{zoneId}/rrset" && r.Body.Contains("_acme-challenge." + device.Hostname + ".", StringComparison.Ordinal));
        Assert.Contains(route53.Requests, r => r.RawTarget.StartsWith("/2013-04-01/change/", StringComparison.Ordinal));
        Assert.Empty(route53.TxtAt(zoneId, "_acme-challenge." + device.Hostname)); // Removed after validation.
        var health = await client.GetFromJsonAsync<JsonElement>("/api/health");
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("dns").GetProperty("status").GetString());
        Assert.DoesNotContain(host.Logs, l => l.Contains("host/Route53+Secret/0123456789", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Creates_the_ACME_account_once_and_reuses_it_after_a_restart()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "sndctl-it-" + Guid.NewGuid().ToString("N"));
        var first = StartHost(dataDirectory: dataDirectory);
        var device = await first.CreateDeviceAsync();
        using (var client = first.Device())
        {
            await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        }

        var stateKey = "acme/account/" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Lab.Directory.AbsoluteUri)))[..32];
        var stateBefore = await ReadStateAsync(first, stateKey);
        Assert.Contains("\"accountUrl\":\"https://", stateBefore, StringComparison.Ordinal);
        Assert.Contains(first.Logs, l => l.Contains("Created ACME account", StringComparison.Ordinal));
        await first.DisposeAsync();

        var second = StartHost(dataDirectory: dataDirectory);
        var other = await second.CreateDeviceAsync();
        using (var client = second.Device())
        {
            await ProvisionAsync(client, ProvisioningHostFactory.Register(other));
        }

        Assert.Equal(stateBefore, await ReadStateAsync(second, stateKey));
        Assert.Contains(second.Logs, l => l.Contains("Using ACME account", StringComparison.Ordinal));
        Assert.DoesNotContain(second.Logs, l => l.Contains("Created ACME account", StringComparison.Ordinal));
        Assert.DoesNotContain("PRIVATE KEY", stateBefore, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_revoke_revokes_the_certificate_at_the_CA()
    {
        var host = StartHost();
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();
        var body = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        var serial = SerialOf(body.Certificate);
        Assert.Equal("Valid", await Lab.GetCertificateStatusAsync(serial));

        using var admin = host.Admin();
        var response = await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/revoke", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Revoked", await Lab.GetCertificateStatusAsync(serial));
        // The revoked certificate is never handed out again: the next register issues a new one.
        var next = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        Assert.NotEqual(serial, SerialOf(next.Certificate));
    }

    [Fact]
    public async Task Many_devices_registering_at_once_all_get_their_own_certificate()
    {
        var host = StartHost();
        var devices = new List<CreatedDevice>();
        for (var i = 0; i < 40; i++)
        {
            devices.Add(await host.CreateDeviceAsync());
        }

        using var client = host.Device();
        var results = await Task.WhenAll(devices.Select(d => ProvisionAsync(client, ProvisioningHostFactory.Register(d))));

        var (root, _) = await Lab.GetIssuingCertificatesAsync();
        for (var i = 0; i < devices.Count; i++)
        {
            Assert.Equal(devices[i].Hostname, results[i].Hostname);
            Assert.Equal(X509ChainStatusFlags.NoError, AcmeLab.VerifyChain(results[i].Certificate, root));
            using var leaf = X509Certificate2.CreateFromPem(results[i].Certificate);
            Assert.True(leaf.MatchesHostname(devices[i].Hostname, allowWildcards: false, allowCommonName: false));
        }

        Assert.Equal(devices.Count, results.Select(r => SerialOf(r.Certificate)).Distinct().Count());
    }

    [Fact]
    public async Task A_slow_issuance_answers_202_and_the_next_call_gets_the_certificate()
    {
        var proxy = await StartProxyAsync();
        proxy.NewOrderDelay = TimeSpan.FromSeconds(1);
        var host = StartHost(directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        var call = client.SendAsync(ProvisioningHostFactory.Register(device));
        while (proxy.NewOrders.IsEmpty)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        // Past the 30 s wait budget on the host's clock; again until the call answers, since under load
        // the request may start its wait only after the order was seen (the order takes a second more).
        for (var i = 0; i < 20 && !call.IsCompleted; i++)
        {
            host.Time.Advance(TimeSpan.FromSeconds(31));
            await Task.WhenAny(call, Task.Delay(50, TestContext.Current.CancellationToken));
        }

        var pending = await call;
        Assert.Equal(HttpStatusCode.Accepted, pending.StatusCode);
        Assert.NotNull(pending.Headers.RetryAfter);

        var body = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        await AssertValidForAsync(body, device.Hostname);
        Assert.Single(proxy.NewOrders); // The second call joined the running issuance.
    }
}
