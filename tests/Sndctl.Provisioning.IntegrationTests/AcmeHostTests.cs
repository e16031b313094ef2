using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Testing;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The reference host in ACME mode, driven over real HTTP as devices and admins drive it, against a
/// real Pebble that validates DNS-01 through pebble-challtestsrv (Pebble's default 5 % nonce
/// rejection on). Failure paths swap in a DNS provider that writes to a DNS server Pebble does not use.
/// </summary>
public sealed class AcmeHostTests : IAsyncLifetime
{
    private readonly AcmeLab _lab = AcmeLab.Require();
    private readonly List<ProvisioningHostFactory> _hosts = [];
    private readonly List<AcmeProxy> _proxies = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
            host.DeleteData();
        }

        foreach (var proxy in _proxies)
        {
            await proxy.DisposeAsync();
        }
    }

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
        var dns = new RecordingDnsProvider(_lab.ChallTestSrv);
        var host = StartHost(services: services => dns.Replace(services));
        var device = await host.CreateDeviceAsync();
        var target = $"{device.DeviceId}.acme-delegated.example.test";
        await AcmeLab.SetCnameAsync(_lab.ChallTestSrv, "_acme-challenge." + device.Hostname, target);
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
        cloudflare.ChallTestSrv = _lab.ChallTestSrv; // Records placed through the API land in Pebble's DNS.
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
        route53.ChallTestSrv = _lab.ChallTestSrv; // Record sets changed through the API land in Pebble's DNS.
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
    public async Task The_portal_dashboard_shows_the_ACME_budget_used_by_issuance()
    {
        var host = StartHost();
        var device = await host.CreateDeviceAsync();
        using (var client = host.Device())
        {
            await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        }

        using var portal = await AdminPortalTests.SignedInClientAsync(host);
        var dashboard = await portal.GetStringAsync("/admin");

        Assert.Contains("Issuer: <strong>Acme</strong>", dashboard, StringComparison.Ordinal);
        Assert.Contains("CA budget for <strong>example.test</strong>: <strong>1 of 50</strong> new certificates per 7 days", dashboard, StringComparison.Ordinal);
        Assert.Contains("No new device waits for the budget.", dashboard, StringComparison.Ordinal);
        Assert.Matches("<rect class=\"ok\" [^>]*height=\"120\"><title>[0-9-]+: 1 issued</title>", dashboard);
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

        var stateKey = "acme/account/" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(_lab.Directory.AbsoluteUri)))[..32];
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
        Assert.Equal("Valid", await _lab.GetCertificateStatusAsync(serial));

        using var admin = host.Admin();
        var response = await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/revoke", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Revoked", await _lab.GetCertificateStatusAsync(serial));
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

        var (root, _) = await _lab.GetIssuingCertificatesAsync();
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
    public async Task A_TXT_record_that_never_propagates_gives_a_clear_503_and_is_cleaned_up()
    {
        var dns = new RecordingDnsProvider(_lab.DecoyChallTestSrv); // Written where the checked nameserver never sees it.
        var settings = Fallback(); // Our DNS side failing is no reason to ask another CA: one record only.
        settings["Provisioning:Acme:PropagationTimeout"] = "00:00:01";
        var host = StartHost(settings, services => dns.Replace(services));
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        var response = await client.SendAsync(ProvisioningHostFactory.Register(device));

        var problem = await HttpAssert.ProblemAsync(response, 503);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.DoesNotContain(_lab.ChallTestSrvDns, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var failure = await FailureEventAsync(host, device);
        Assert.Contains("did not reach every nameserver", failure, StringComparison.Ordinal);
        Assert.Contains(_lab.ChallTestSrvDns, failure, StringComparison.Ordinal);
        Assert.Single(dns.Created);
        Assert.Equal(dns.Created, dns.Deleted);
        await AssertNothingStoredAsync(host, device);
    }

    [Fact]
    public async Task A_challenge_that_fails_validation_gives_a_clear_error_stores_nothing_and_cleans_up()
    {
        var dns = new RecordingDnsProvider(_lab.DecoyChallTestSrv); // Propagation is checked there; Pebble asks the real one.
        var host = StartHost(
            new() { ["Provisioning:Acme:PropagationNameservers:0"] = _lab.DecoyChallTestSrvDns },
            services => dns.Replace(services));
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        var response = await client.SendAsync(ProvisioningHostFactory.Register(device));

        var problem = await HttpAssert.ProblemAsync(response, 502);
        Assert.DoesNotContain("DNS-01", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(problem.TryGetProperty("traceId", out _), problem.ToString());
        Assert.Equal(dns.Created, dns.Deleted);
        await AssertNothingStoredAsync(host, device);

        // The device is told something stable; the operator reads what went wrong in the device's events.
        var failure = await FailureEventAsync(host, device);
        Assert.Contains("DNS-01 validation failed", failure, StringComparison.Ordinal);
        Assert.Contains(device.Hostname, failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_CA_gives_503_with_Retry_After_and_the_device_registers_once_it_is_back()
    {
        var proxy = await StartProxyAsync();
        var host = StartHost(directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();
        proxy.Down = true;

        var response = await client.SendAsync(ProvisioningHostFactory.Register(device));

        var problem = await HttpAssert.ProblemAsync(response, 503);
        Assert.NotNull(response.Headers.RetryAfter);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.DoesNotContain(proxy.Directory.Authority, detail, StringComparison.Ordinal); // no CA host, no socket error for the device
        Assert.DoesNotContain("reached", detail, StringComparison.Ordinal);
        Assert.True(problem.TryGetProperty("traceId", out _), problem.ToString());
        await AssertNothingStoredAsync(host, device);
        Assert.Contains("could not be reached", await FailureEventAsync(host, device), StringComparison.Ordinal);

        proxy.Down = false;
        var body = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        await AssertValidForAsync(body, device.Hostname);
    }

    [Fact]
    public async Task A_rateLimited_answer_gives_503_with_the_CAs_Retry_After_and_pauses_new_orders()
    {
        var proxy = await StartProxyAsync();
        proxy.RateLimitNextOrders = 1;
        proxy.RateLimitRetryAfter = TimeSpan.FromSeconds(120);
        var host = StartHost(directory: proxy.Directory);
        var first = await host.CreateDeviceAsync();
        var second = await host.CreateDeviceAsync();
        using var client = host.Device();

        var limited = await client.SendAsync(ProvisioningHostFactory.Register(first));
        var problem = await HttpAssert.ProblemAsync(limited, 503);
        Assert.Equal(TimeSpan.FromSeconds(120), limited.Headers.RetryAfter?.Delta);
        Assert.DoesNotContain("rate limit", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("rate limit", await FailureEventAsync(host, first), StringComparison.OrdinalIgnoreCase);

        // Another device meanwhile: refused locally, the CA is not asked again.
        var paused = await client.SendAsync(ProvisioningHostFactory.Register(second));
        await HttpAssert.ProblemAsync(paused, 503);
        Assert.InRange(paused.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(120));
        Assert.Single(proxy.NewOrders);
        var health = await client.GetFromJsonAsync<JsonElement>("/api/health");
        Assert.Equal("Degraded", health.GetProperty("checks").GetProperty("issuer").GetProperty("status").GetString());

        host.Time.Advance(TimeSpan.FromSeconds(121));
        await AssertValidForAsync(await ProvisionAsync(client, ProvisioningHostFactory.Register(second)), second.Hostname);
    }

    [Fact]
    public async Task A_rate_limit_for_one_name_holds_back_only_that_device()
    {
        var proxy = await StartProxyAsync();
        proxy.RateLimitNextOrders = 1;
        proxy.RateLimitDetail = "too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s: see https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-identifiers";
        var host = StartHost(directory: proxy.Directory);
        var first = await host.CreateDeviceAsync();
        var second = await host.CreateDeviceAsync();
        using var client = host.Device();

        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(first)), 503);
        await AssertValidForAsync(await ProvisionAsync(client, ProvisioningHostFactory.Register(second)), second.Hostname);

        // The limited device is held back locally: the CA is not asked again for it until Retry-After.
        var held = await client.SendAsync(ProvisioningHostFactory.Register(first));
        await HttpAssert.ProblemAsync(held, 503);
        Assert.Equal(2, proxy.NewOrders.Count);
        var health = await client.GetFromJsonAsync<JsonElement>("/api/health");
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("issuer").GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_primary_CA_unreachable_a_fallback_CA_issues_records_itself_and_the_next_renewal_returns_to_the_primary()
    {
        var proxy = await StartProxyAsync();
        var host = StartHost(Fallback(), directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();
        proxy.Down = true;

        // The primary cannot be reached: the fallback (an EAB-requiring Pebble, its own account) issues.
        var fromFallback = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));

        await AssertValidForAsync(fromFallback, device.Hostname, fallback: true);
        using var admin = host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        var issued = Assert.Single(details.GetProperty("certificates").EnumerateArray().ToList());
        Assert.Equal(_lab.EabDirectory.AbsoluteUri, issued.GetProperty("certificateAuthority").GetString());
        Assert.Contains(details.GetProperty("events").EnumerateArray(), e => e.GetProperty("type").GetString() == AuditEventTypes.CertificateIssued
            && e.GetProperty("details").GetString()!.Contains("from " + _lab.EabDirectory.AbsoluteUri, StringComparison.Ordinal));
        Assert.Empty(proxy.NewOrders);
        var health = await admin.GetFromJsonAsync<JsonElement>("/api/health");
        var issuer = health.GetProperty("checks").GetProperty("issuer");
        Assert.Equal("Degraded", issuer.GetProperty("status").GetString());
        Assert.Contains("fallback CA " + _lab.EabDirectory.AbsoluteUri, issuer.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains(host.Logs, l => l.Contains("fallback-1", StringComparison.Ordinal));

        // The primary is back: the renewal (in its window) goes to it, without ARI's replaces (that ID means nothing to another CA).
        proxy.Down = false;
        host.Time.Advance(fromFallback.RenewAfter - host.Time.GetUtcNow() + TimeSpan.FromDays(1));
        var fromPrimary = await ProvisionAsync(client, ProvisioningHostFactory.Renew(device));

        await AssertValidForAsync(fromPrimary, device.Hostname);
        var order = Assert.Single(proxy.NewOrders);
        Assert.Null(order["replaces"]);
        details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        var current = details.GetProperty("certificates").EnumerateArray().Single(c => c.GetProperty("current").GetBoolean());
        Assert.Equal(proxy.Directory.AbsoluteUri, current.GetProperty("certificateAuthority").GetString());
        Assert.Equal("Healthy", (await admin.GetFromJsonAsync<JsonElement>("/api/health")).GetProperty("checks").GetProperty("issuer").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_spent_budget_sends_new_devices_to_the_fallback_CA_instead_of_the_queue()
    {
        var proxy = await StartProxyAsync();
        var settings = Fallback();
        settings["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = "1";
        var host = StartHost(settings, directory: proxy.Directory);
        var first = await host.CreateDeviceAsync();
        var second = await host.CreateDeviceAsync();
        using var client = host.Device();

        await AssertValidForAsync(await ProvisionAsync(client, ProvisioningHostFactory.Register(first)), first.Hostname);
        var response = await client.SendAsync(ProvisioningHostFactory.Register(second));

        // Not 202 queued: the fallback had room, and the primary was not asked for an order it could not cover.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<ProvisionResponse>())!;
        await AssertValidForAsync(body, second.Hostname, fallback: true);
        Assert.Single(proxy.NewOrders);
        using var admin = host.Admin();
        var budget = await admin.GetFromJsonAsync<JsonElement>("/api/admin/acme/budget");
        Assert.Equal(1, budget.GetProperty("domains")[0].GetProperty("used").GetInt32());
        Assert.Equal(0, budget.GetProperty("queue").GetProperty("depth").GetInt32());

        // Revoking it goes to the CA that issued it, with the account there (the primary's could not).
        var serial = SerialOf(body.Certificate);
        Assert.Equal("Valid", await _lab.GetCertificateStatusAsync(serial, eab: true));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/admin/devices/{second.DeviceId}/revoke", null)).StatusCode);
        Assert.Equal("Revoked", await _lab.GetCertificateStatusAsync(serial, eab: true));
    }

    [Fact]
    public async Task A_device_queued_while_the_fallback_CA_is_down_too_is_asked_back_when_the_fallback_may_issue()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Provisioning:Acme:Fallbacks:0:DirectoryUrl"] = "https://127.0.0.1:9/dir", // nothing listens there
            ["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = "1",
        };
        var host = StartHost(settings);
        var first = await host.CreateDeviceAsync();
        var second = await host.CreateDeviceAsync();
        using var client = host.Device();
        await AssertValidForAsync(await ProvisionAsync(client, ProvisioningHostFactory.Register(first)), first.Hostname);

        var response = await client.SendAsync(ProvisioningHostFactory.Register(second));

        // Queued at the primary (its turn is a week away), but asked back as soon as the fallback may answer.
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("queued", body.GetProperty("status").GetString());
        Assert.Equal(1, body.GetProperty("queuePosition").GetInt32());
        Assert.InRange(body.GetProperty("estimatedAt").GetDateTimeOffset() - host.Time.GetUtcNow(), TimeSpan.FromDays(6.9), TimeSpan.FromDays(7));
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
        var detail = body.GetProperty("detail").GetString()!;
        Assert.Contains("number 1 in the queue", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", detail, StringComparison.Ordinal); // no fallback CA's address, no budget settings
        Assert.DoesNotContain("budget", detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_fleet_of_200_against_a_budget_of_50_is_certified_by_the_background_job_as_the_budget_refills_with_no_5xx()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var proxy = await StartProxyAsync();
        var host = StartHost(
            new()
            {
                ["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = "50",
                ["Provisioning:Acme:RateLimits:RegisteredDomainWindow"] = "7.00:00:00",
            },
            directory: proxy.Directory);
        var devices = new List<CreatedDevice>();
        for (var i = 0; i < 200; i++)
        {
            devices.Add(await host.CreateDeviceAsync());
        }

        // Launch day: the whole fleet boots at once (8 at a time). 50 get certificates, 150 are queued; nobody gets a 5xx.
        using var client = host.Device();
        var answers = new ConcurrentBag<(HttpStatusCode Status, JsonElement Body)>();
        await Parallel.ForEachAsync(devices, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellation }, async (device, token) =>
        {
            using var response = await client.SendAsync(ProvisioningHostFactory.Register(device), token);
            answers.Add((response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>(token)));
        });

        Assert.Equal(50, answers.Count(a => a.Status == HttpStatusCode.OK));
        var queued = answers.Where(a => a.Status == HttpStatusCode.Accepted).Select(a => a.Body).ToList();
        Assert.Equal(150, queued.Count);
        Assert.All(queued, q => Assert.Equal("queued", q.GetProperty("status").GetString()));
        Assert.All(queued, q => Assert.InRange(q.GetProperty("queuePosition").GetInt32(), 1, 150));
        // One slot refills every 7 days / 50 = 3.36 h: the last of 150 is due about 21 days out.
        var last = queued.Max(q => q.GetProperty("estimatedAt").GetDateTimeOffset());
        Assert.InRange(last - host.Time.GetUtcNow(), TimeSpan.FromDays(20), TimeSpan.FromDays(21.5));
        Assert.Equal(50, proxy.NewOrders.Count);

        // The test clock moves half a day at a time; the queued-issuance job (one instance, every minute) issues
        // as slots refill, and queued devices asking meanwhile are told to wait (202) or served (200), never 5xx.
        var job = host.Services.GetServices<IProvisioningJob>().Single(j => j.Name == "queued-issuance");
        var budget = host.Services.GetRequiredService<ICertificateAuthorityBudget>();
        var steps = 0;
        while ((await budget.GetReportAsync(cancellation)).QueueDepth > 0)
        {
            Assert.True(++steps <= 50, "the queue should drain within the refill schedule (about 21 days)");
            host.Time.Advance(TimeSpan.FromHours(12));
            await using (var scope = host.Services.CreateAsyncScope())
            {
                await job.RunAsync(scope.ServiceProvider, cancellation);
            }

            foreach (var device in devices.Skip(200 - (steps * 3 % 150) - 3).Take(3))
            {
                using var response = await client.SendAsync(ProvisioningHostFactory.Register(device), cancellation);
                Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, $"after {steps * 12} h: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellation)}");
            }
        }

        Assert.InRange(steps * 12, 20 * 24, 22 * 24);
        Assert.Equal(200, proxy.NewOrders.Count);

        // Every device's next call is the fast path: its own certificate, no further order.
        var serials = new HashSet<string>();
        var renewAfters = new List<DateTimeOffset>();
        foreach (var device in devices)
        {
            var body = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
            Assert.True(serials.Add(SerialOf(body.Certificate)));
            renewAfters.Add(body.RenewAfter);
        }

        Assert.Equal(200, proxy.NewOrders.Count);

        // Years later, the week before the first renewal times: the report counts the renewals due this week.
        host.Time.Advance(renewAfters.Min() - TimeSpan.FromDays(6) - host.Time.GetUtcNow());
        var due = renewAfters.Count(r => r < host.Time.GetUtcNow().AddDays(7));
        Assert.InRange(due, 1, 200);
        using var admin = host.Admin();
        Assert.Equal(due, (await admin.GetFromJsonAsync<JsonElement>("/api/admin/acme/budget", cancellation)).GetProperty("renewals").GetProperty("dueThisWeek").GetInt32());
    }

    [Fact]
    public async Task Queued_devices_that_keep_their_key_and_never_come_back_cannot_block_the_queue_but_one_that_comes_at_its_turn_is_served()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var proxy = await StartProxyAsync();
        var host = StartHost(
            new()
            {
                ["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = "1",
                ["Provisioning:Acme:RateLimits:RegisteredDomainWindow"] = "7.00:00:00",
            },
            directory: proxy.Directory);
        using var client = host.Device();
        var job = host.Services.GetServices<IProvisioningJob>().Single(j => j.Name == "queued-issuance");
        async Task DrainAsync()
        {
            await using var scope = host.Services.CreateAsyncScope();
            await job.RunAsync(scope.ServiceProvider, cancellation);
        }

        await ProvisionAsync(client, ProvisioningHostFactory.Register(await host.CreateDeviceAsync())); // the week's one slot

        // Three devices with their own keys queue (the server cannot issue for them without them), then one whose key the server makes.
        var colluders = new List<(CreatedDevice Device, string Csr)>();
        for (var i = 0; i < 3; i++)
        {
            var device = await host.CreateDeviceAsync();
            colluders.Add((device, DeviceCsr(device.Hostname)));
            var queued = await client.SendAsync(ProvisioningHostFactory.Register(device, csr: colluders[i].Csr), cancellation);
            Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        }

        var victim = await host.CreateDeviceAsync();
        var victimQueued = await (await client.SendAsync(ProvisioningHostFactory.Register(victim), cancellation)).Content.ReadFromJsonAsync<JsonElement>(cancellation);
        Assert.Equal(4, victimQueued.GetProperty("queuePosition").GetInt32());
        var orders = proxy.NewOrders.Count;

        // The first colluder's turn: the slot waits for it (its claim window), and it is served when it comes.
        host.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(5));
        await DrainAsync();
        Assert.Equal(orders, proxy.NewOrders.Count);
        var served = await client.SendAsync(ProvisioningHostFactory.Register(colluders[0].Device, csr: colluders[0].Csr), cancellation);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);

        // The second colluder's turn passes without it: once its claim ends, the background drain passes over the
        // devices it cannot serve and issues for the one behind them, a week before its own estimate.
        host.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(16));
        await DrainAsync();
        Assert.Equal(orders + 2, proxy.NewOrders.Count);
        var victimServed = await ProvisionAsync(client, ProvisioningHostFactory.Register(victim));
        Assert.Equal(orders + 2, proxy.NewOrders.Count); // the fast path: issued in the background

        // The colluder that stayed away keeps its place in line, first now, and is served at its next slot.
        var late = await (await client.SendAsync(ProvisioningHostFactory.Register(colluders[1].Device, csr: colluders[1].Csr), cancellation)).Content.ReadFromJsonAsync<JsonElement>(cancellation);
        Assert.Equal("queued", late.GetProperty("status").GetString());
        Assert.Equal(1, late.GetProperty("queuePosition").GetInt32());
        Assert.NotNull(victimServed.Certificate);
    }

    [Fact]
    public async Task A_CSR_the_CA_refuses_at_finalize_costs_an_order_each_time_and_is_limited_per_device()
    {
        var proxy = await StartProxyAsync();
        proxy.RefuseNextFinalizes = 100;

        // One device sending a CSR the CA refuses: five refusals an hour, then 429 without another order.
        var host = StartHost(directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        var csr = DeviceCsr(device.Hostname);
        using var client = host.Device();
        for (var i = 0; i < 5; i++)
        {
            await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device, csr: csr)), 502);
        }

        Assert.Equal(5, proxy.NewOrders.Count);
        var limited = await client.SendAsync(ProvisioningHostFactory.Register(device, csr: csr));
        var problem = await HttpAssert.ProblemAsync(limited, 429);
        Assert.EndsWith("/device-issuance-limit", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(60));
        Assert.Equal(5, proxy.NewOrders.Count);

        // The CA counted every refused order: so does the account's order budget (3 here). The fourth is not placed.
        var counted = StartHost(new() { ["Provisioning:Acme:RateLimits:NewOrdersPerAccount"] = "3" }, directory: proxy.Directory);
        using var countedClient = counted.Device();
        var devices = new List<CreatedDevice>();
        for (var i = 0; i < 4; i++)
        {
            devices.Add(await counted.CreateDeviceAsync());
        }

        var before = proxy.NewOrders.Count;
        foreach (var refused in devices.Take(3))
        {
            await HttpAssert.ProblemAsync(await countedClient.SendAsync(ProvisioningHostFactory.Register(refused, csr: DeviceCsr(refused.Hostname))), 502);
        }

        await HttpAssert.ProblemAsync(await countedClient.SendAsync(ProvisioningHostFactory.Register(devices[3], csr: DeviceCsr(devices[3].Hostname))), 503);
        Assert.Equal(before + 3, proxy.NewOrders.Count);
    }

    private static string DeviceCsr(string hostname)
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostname}", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostname);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequestPem();
    }

    private Dictionary<string, string?> Fallback() => new()
    {
        ["Provisioning:Acme:Fallbacks:0:DirectoryUrl"] = _lab.EabDirectory.AbsoluteUri,
        ["Provisioning:Acme:Fallbacks:0:ExternalAccountKeyId"] = _lab.EabKeyId,
        ["Provisioning:Acme:Fallbacks:0:ExternalAccountHmacKey"] = _lab.EabHmacKey,
    };

    [Fact]
    public async Task A_spent_budget_queues_new_devices_in_order_with_ETAs_serves_certified_ones_and_an_override_drains_the_queue()
    {
        var proxy = await StartProxyAsync();
        var data = Path.Combine(Path.GetTempPath(), "sndctl-it-" + Guid.NewGuid().ToString("N"));
        Dictionary<string, string?> Budget(int limit) => new()
        {
            ["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Provisioning:Acme:RateLimits:RegisteredDomainWindow"] = "3.00:00:00",
        };
        var host = StartHost(Budget(3), directory: proxy.Directory, dataDirectory: data);
        var devices = new List<CreatedDevice>();
        for (var i = 0; i < 5; i++)
        {
            devices.Add(await host.CreateDeviceAsync());
        }

        using var client = host.Device();
        var first = new List<ProvisionResponse>();
        foreach (var device in devices.Take(3))
        {
            first.Add(await ProvisionAsync(client, ProvisioningHostFactory.Register(device)));
        }

        // The fourth and fifth new certificates are not ordered: 202 queued, in order, with the refill schedule (3 days / 3 = one a day).
        var ordersBefore = proxy.NewOrders.Count;
        var queued = new List<JsonElement>();
        foreach (var device in devices.Skip(3))
        {
            var response = await client.SendAsync(ProvisioningHostFactory.Register(device));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("queued", body.GetProperty("status").GetString());
            Assert.Equal(body.GetProperty("retryAfterSeconds").GetInt32(), (int)response.Headers.RetryAfter!.Delta!.Value.TotalSeconds);
            queued.Add(body);
        }

        Assert.Equal([1, 2], queued.Select(q => q.GetProperty("queuePosition").GetInt32()));
        var etas = queued.Select(q => q.GetProperty("estimatedAt").GetDateTimeOffset()).ToList();
        Assert.InRange(etas[0] - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromDays(1));
        Assert.InRange(etas[1] - etas[0], TimeSpan.FromHours(23.9), TimeSpan.FromHours(24.1));
        Assert.InRange(queued[0].GetProperty("retryAfterSeconds").GetInt32(), 23 * 3600, 24 * 3600);
        Assert.Equal(ordersBefore, proxy.NewOrders.Count);

        // Asking again keeps the place; a device that holds its certificate is served at once.
        var again1 = await (await client.SendAsync(ProvisioningHostFactory.Register(devices[4]))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, again1.GetProperty("queuePosition").GetInt32());
        Assert.Equal(first[0].Certificate, (await ProvisionAsync(client, ProvisioningHostFactory.Register(devices[0]))).Certificate);

        using (var admin = host.Admin())
        {
            var budget = await admin.GetFromJsonAsync<JsonElement>("/api/admin/acme/budget");
            var domain = Assert.Single(budget.GetProperty("domains").EnumerateArray().ToList());
            Assert.Equal("example.test", domain.GetProperty("registeredDomain").GetString());
            Assert.Equal(3, domain.GetProperty("limit").GetInt32());
            Assert.Equal(3, domain.GetProperty("used").GetInt32());
            Assert.Equal(3 * 86_400, domain.GetProperty("windowSeconds").GetInt64());
            Assert.InRange(domain.GetProperty("nextSlotAt").GetDateTimeOffset() - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromDays(1));
            Assert.Equal(2, budget.GetProperty("queue").GetProperty("depth").GetInt32());
            Assert.Equal(etas[1], budget.GetProperty("queue").GetProperty("drainsAt").GetDateTimeOffset(), TimeSpan.FromSeconds(5));
            Assert.Equal(0, budget.GetProperty("renewals").GetProperty("dueThisWeek").GetInt32()); // three fresh certificates
        }

        // The same figures as metrics, once the acme-budget job (one instance, every minute) has read them.
        var job = host.Services.GetServices<IProvisioningJob>().Single(j => j.Name == "acme-budget");
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await job.RunAsync(scope.ServiceProvider, TestContext.Current.CancellationToken);
        }

        var factory = host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var values = new Dictionary<string, double>();
        using (var listener = new System.Diagnostics.Metrics.MeterListener())
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Sndctl.Provisioning.Acme" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => values[instrument.Name] = value);
            listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => values[instrument.Name] = value);
            listener.Start();
            listener.RecordObservableInstruments();
        }

        Assert.Equal(3, values["sndctl.acme.budget.used"]);
        Assert.Equal(3, values["sndctl.acme.budget.limit"]);
        Assert.Equal(2, values["sndctl.acme.queue.depth"]);
        Assert.InRange(values["sndctl.acme.queue.drain_seconds"], 47 * 3600, 48 * 3600);
        Assert.Equal(0, values["sndctl.acme.renewals.due_week"]);

        // The CA granted an override: restarted with a larger budget, the queue drains in the background (the
        // queued-issuance job, one instance, every minute) and each queued device's next call is the fast path.
        await host.DisposeAsync();
        _hosts.Remove(host);
        var raised = StartHost(Budget(10), directory: proxy.Directory, dataDirectory: data);
        using var after = raised.Device();
        var ordersAtRestart = proxy.NewOrders.Count;
        var drain = raised.Services.GetServices<IProvisioningJob>().Single(j => j.Name == "queued-issuance");
        await using (var scope = raised.Services.CreateAsyncScope())
        {
            await drain.RunAsync(scope.ServiceProvider, TestContext.Current.CancellationToken);
        }

        Assert.Equal(ordersAtRestart + 2, proxy.NewOrders.Count);
        foreach (var device in devices.Skip(3))
        {
            var served = await after.SendAsync(ProvisioningHostFactory.Register(device));
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            await AssertValidForAsync((await served.Content.ReadFromJsonAsync<ProvisionResponse>())!, device.Hostname);
        }

        Assert.Equal(ordersAtRestart + 2, proxy.NewOrders.Count); // served from the store, no order at the call

        using var raisedAdmin = raised.Admin();
        Assert.Equal(0, (await raisedAdmin.GetFromJsonAsync<JsonElement>("/api/admin/acme/budget")).GetProperty("queue").GetProperty("depth").GetInt32());
    }

    [Fact]
    public async Task A_CA_that_says_rateLimited_before_the_count_expected_empties_the_budget_until_its_Retry_After()
    {
        var proxy = await StartProxyAsync();
        proxy.RateLimitNextOrders = 1;
        proxy.RateLimitRetryAfter = TimeSpan.FromHours(5);
        proxy.RateLimitDetail = "too many certificates (50) already issued for \"example.test\" in the last 168h0m0s: see https://letsencrypt.org/docs/rate-limits/#new-certificates-per-registered-domain";
        var host = StartHost(directory: proxy.Directory);
        var first = await host.CreateDeviceAsync();
        var second = await host.CreateDeviceAsync();
        using var client = host.Device();

        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(first)), 503);

        using var admin = host.Admin();
        var domain = (await admin.GetFromJsonAsync<JsonElement>("/api/admin/acme/budget")).GetProperty("domains")[0];
        Assert.Equal(50, domain.GetProperty("used").GetInt32());
        Assert.InRange(domain.GetProperty("nextSlotAt").GetDateTimeOffset() - DateTimeOffset.UtcNow, TimeSpan.FromHours(4.9), TimeSpan.FromHours(5));

        // Other new devices wait in the budget's queue, without another order at the CA; their turn comes after the CA's Retry-After.
        var orders = proxy.NewOrders.Count;
        var waiting = await client.SendAsync(ProvisioningHostFactory.Register(second));
        Assert.Equal(HttpStatusCode.Accepted, waiting.StatusCode);
        var body = await waiting.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("queued", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("estimatedAt").GetDateTimeOffset() >= DateTimeOffset.UtcNow.AddHours(4.9));
        Assert.Equal(orders, proxy.NewOrders.Count);
    }

    [Fact]
    public async Task The_budget_endpoint_is_for_admins_and_says_when_the_issuer_has_none()
    {
        var acme = StartHost();
        using (var anonymous = acme.Device())
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/admin/acme/budget")).StatusCode);
        }

        var privateCa = new ProvisioningHostFactory();
        _hosts.Add(privateCa);
        using var admin = privateCa.Admin();
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/admin/acme/budget"), 404);
    }

    [Fact]
    public async Task Health_probes_read_the_directory_and_never_register_an_account()
    {
        var proxy = await StartProxyAsync();
        var host = StartHost(directory: proxy.Directory);
        using var client = host.Device();
        for (var i = 0; i < 3; i++)
        {
            var health = await client.GetFromJsonAsync<JsonElement>("/api/health");
            Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("issuer").GetProperty("status").GetString());
        }

        Assert.Equal(0, proxy.NewAccountRequests);
        var device = await host.CreateDeviceAsync();
        await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        Assert.InRange(proxy.NewAccountRequests, 1, 3); // registered at the first issuance (Pebble's random badNonce may make it retry)
    }

    [Fact]
    public async Task Renewal_time_comes_from_ARI_and_renewals_send_replaces()
    {
        var proxy = await StartProxyAsync();
        var windowStart = DateTimeOffset.UtcNow.AddDays(30);
        proxy.RenewalWindow = (windowStart, windowStart.AddDays(2));
        var host = StartHost(directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        var first = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        Assert.InRange(first.RenewAfter, windowStart.AddSeconds(-1), windowStart.AddDays(2).AddSeconds(1));
        Assert.Null(proxy.NewOrders.Single()["replaces"]);

        host.Time.Advance(first.RenewAfter - host.Time.GetUtcNow() + TimeSpan.FromMinutes(1));
        var renewed = await ProvisionAsync(client, ProvisioningHostFactory.Renew(device));

        Assert.NotEqual(SerialOf(first.Certificate), SerialOf(renewed.Certificate));
        var replaces = proxy.NewOrders.Last()["replaces"]?.GetValue<string>();
        Assert.Equal(Sndctl.Provisioning.Acme.AcmeCertificateIdentifier.TryGet(first.Certificate), replaces);
        Assert.Contains(replaces!, proxy.RenewalInfoRequests);
    }

    [Fact]
    public async Task A_renewal_window_the_CA_moves_earlier_is_honoured_without_waiting_for_the_device()
    {
        var proxy = await StartProxyAsync();
        var windowStart = DateTimeOffset.UtcNow.AddDays(30);
        proxy.RenewalWindow = (windowStart, windowStart.AddDays(2));
        var host = StartHost(directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();
        var first = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        Assert.True(first.RenewAfter >= windowStart.AddSeconds(-1));

        // The CA moves the window to the past (a mass revocation is coming); the daily ARI refresh takes it in.
        var now = host.Time.GetUtcNow();
        proxy.RenewalWindow = (now.AddMinutes(-10), now.AddMinutes(-5));
        var job = host.Services.GetServices<IProvisioningJob>().Single(j => j.Name == "ari-refresh");
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await job.RunAsync(scope.ServiceProvider, TestContext.Current.CancellationToken);
        }

        using var admin = host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        Assert.True(details.GetProperty("certificate").GetProperty("renewAfter").GetDateTimeOffset() <= now);

        // The device's next call renews at once, as a renewal (replaces: exempt from the CA's limits).
        var renewed = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        Assert.NotEqual(SerialOf(first.Certificate), SerialOf(renewed.Certificate));
        Assert.Equal(Sndctl.Provisioning.Acme.AcmeCertificateIdentifier.TryGet(first.Certificate), proxy.NewOrders.Last()["replaces"]?.GetValue<string>());
    }

    [Fact]
    public async Task A_configured_certificate_profile_is_requested_when_the_CA_offers_it_and_refused_clearly_when_not()
    {
        var proxy = await StartProxyAsync();
        proxy.Profiles = new() { ["classic"] = "The profile you're used to", ["shortlived"] = "Six-day certificates" };
        var host = StartHost(new() { ["Provisioning:Acme:Profile"] = "shortlived" }, directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        Assert.Equal("shortlived", proxy.NewOrders.Single()["profile"]?.GetValue<string>());

        var other = StartHost(new() { ["Provisioning:Acme:Profile"] = "tlsserver" }, directory: proxy.Directory);
        var refusedDevice = await other.CreateDeviceAsync();
        using var otherClient = other.Device();
        var refused = await otherClient.SendAsync(ProvisioningHostFactory.Register(refusedDevice));
        var problem = await HttpAssert.ProblemAsync(refused, 502);
        Assert.DoesNotContain("'tlsserver'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var failure = await FailureEventAsync(other, refusedDevice);
        Assert.Contains("'tlsserver'", failure, StringComparison.Ordinal);
        Assert.Contains("classic, shortlived", failure, StringComparison.Ordinal);
        Assert.Single(proxy.NewOrders); // Refused before asking the CA.
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

    private ProvisioningHostFactory StartHost(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, Uri? directory = null, string? dataDirectory = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Provisioning:BaseDomain"] = "devices.example.test",
            ["Provisioning:Issuer"] = "Acme",
            ["Provisioning:Acme:DirectoryUrl"] = (directory ?? _lab.Directory).AbsoluteUri,
            ["Provisioning:Acme:AcceptTermsOfService"] = "true",
            ["Provisioning:Acme:Email"] = "ops@example.test",
            ["Provisioning:Acme:TrustedRootFile"] = _lab.TlsRootFile,
            ["Provisioning:Acme:PropagationNameservers:0"] = _lab.ChallTestSrvDns,
            ["Provisioning:Dns:Provider"] = "ChallTestSrv",
            ["Provisioning:Dns:ChallTestSrv:ManagementUrl"] = _lab.ChallTestSrv.AbsoluteUri,
        };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        var host = new ProvisioningHostFactory(dataDirectory, all) { TestServices = services };
        _hosts.Add(host);
        return host;
    }

    private async Task<AcmeProxy> StartProxyAsync()
    {
        var proxy = await AcmeProxy.StartAsync(_lab);
        _proxies.Add(proxy);
        return proxy;
    }

    private static async Task<ProvisionResponse> ProvisionAsync(HttpClient client, HttpRequestMessage request)
    {
        var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<ProvisionResponse>())!;
    }

    private async Task AssertValidForAsync(ProvisionResponse body, string hostname, bool fallback = false)
    {
        var (root, intermediate) = await _lab.GetIssuingCertificatesAsync(eab: fallback);
        Assert.Equal(X509ChainStatusFlags.NoError, AcmeLab.VerifyChain(body.Certificate, root));
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(body.Certificate);
        Assert.Equal(intermediate.Thumbprint, chain[1].Thumbprint);
        using var leaf = body.PrivateKey is null ? X509Certificate2.CreateFromPem(body.Certificate) : X509Certificate2.CreateFromPem(body.Certificate, body.PrivateKey);
        Assert.Equal([hostname], leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.True(body.PrivateKey is null || leaf.HasPrivateKey);
    }

    private static async Task AssertNothingStoredAsync(ProvisioningHostFactory host, CreatedDevice device)
    {
        using var admin = host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        Assert.Equal("pending", details.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, details.GetProperty("certificate").ValueKind);
        Assert.Equal(0, details.GetProperty("certificates").GetArrayLength());
        Assert.Contains(details.GetProperty("events").EnumerateArray(), e => e.GetProperty("type").GetString() == AuditEventTypes.CertificateFailed);
    }

    /// <summary>What the newest certificate.failed event of the device says (the operator's view of a failure).</summary>
    private static async Task<string> FailureEventAsync(ProvisioningHostFactory host, CreatedDevice device)
    {
        using var admin = host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        return details.GetProperty("events").EnumerateArray().First(e => e.GetProperty("type").GetString() == AuditEventTypes.CertificateFailed).GetProperty("details").GetString()!;
    }

    private static async Task<string> ReadStateAsync(ProvisioningHostFactory host, string key)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<IIssuerStateStore>().GetAsync(key, CancellationToken.None))!;
    }

    private static string SerialOf(string pem)
    {
        using var leaf = X509Certificate2.CreateFromPem(pem);
        return leaf.SerialNumber;
    }

    /// <summary>Places TXT records in a given challtestsrv and remembers what it created and deleted.</summary>
    private sealed class RecordingDnsProvider(Uri challTestSrv) : IDnsProvider
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
