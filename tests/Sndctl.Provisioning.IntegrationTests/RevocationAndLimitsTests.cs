using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// Hardening over HTTP: the per-device issuance limit, certificates issued to devices disabled or
/// deleted meanwhile, the device CRL checked by openssl, name constraints, health detail, CSR abuse
/// limits, proxies given as networks and Secure cookies behind TLS.
/// </summary>
public sealed class RevocationAndLimitsTests : IAsyncLifetime
{
    private readonly List<ProvisioningHostFactory> _hosts = [];
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-hard-").FullName;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
            host.DeleteData();
        }

        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task Early_reissues_are_limited_per_device_while_renewals_and_other_devices_are_not()
    {
        var host = Start(new() { ["Provisioning:DeviceIssuanceLimit"] = "2", ["Provisioning:DeviceIssuanceWindow"] = "365.00:00:00" });
        var device = await host.CreateDeviceAsync();
        var other = await host.CreateDeviceAsync();
        using var client = host.Device();
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(device))).StatusCode);

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(device, csr: DeviceCsr(device.Hostname)))).StatusCode);
        }

        var limited = await client.SendAsync(ProvisioningHostFactory.Register(device, csr: DeviceCsr(device.Hostname)));
        var problem = await HttpAssert.ProblemAsync(limited, 429);
        Assert.EndsWith("/device-issuance-limit", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.FromDays(300));

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(other))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(other, csr: DeviceCsr(other.Hostname)))).StatusCode);

        // A renewal (the certificate due) is never limited.
        host.Time.Advance(TimeSpan.FromDays(85));
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Renew(device))).StatusCode);
    }

    [Theory]
    [InlineData("disable")]
    [InlineData("delete")]
    public async Task A_certificate_issued_while_the_device_was_disabled_or_deleted_is_not_handed_out_and_is_revoked(string action)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = Start(new() { ["Provisioning:IssuanceWaitBudget"] = "00:00:00.500" }, services => GatedIssuer.Install(services, gate.Task));
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();
        using var admin = host.Admin();

        // The host's clock is a fake one: move it past the wait budget so the call answers 202.
        var pending = client.SendAsync(ProvisioningHostFactory.Register(device));
        while (!pending.IsCompleted)
        {
            host.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(pending, Task.Delay(50, TestContext.Current.CancellationToken));
        }

        Assert.Equal(HttpStatusCode.Accepted, (await pending).StatusCode);
        var done = action == "disable"
            ? await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/disable", null)
            : await admin.DeleteAsync($"/api/admin/devices/{device.DeviceId}");
        Assert.True(done.IsSuccessStatusCode);
        gate.SetResult();

        var crl = await WaitForRevokedSerialsAsync(host, 1);
        if (action == "disable")
        {
            await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device)), 403);
            var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
            Assert.Equal(JsonValueKind.Null, details.GetProperty("certificate").ValueKind);
            var history = details.GetProperty("certificates").EnumerateArray().Single();
            Assert.Contains(history.GetProperty("serialNumber").GetString()!, crl, StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device)), 401);
        }
    }

    [Fact]
    public async Task Revoked_and_deleted_devices_certificates_are_on_the_device_CRL_that_openssl_checks()
    {
        var host = Start();
        using var client = host.Device();
        using var admin = host.Admin();
        var revoked = await host.CreateDeviceAsync();
        var deleted = await host.CreateDeviceAsync();
        var kept = await host.CreateDeviceAsync();
        var certificates = new Dictionary<string, string>();
        foreach (var device in new[] { revoked, deleted, kept })
        {
            var issued = (await (await client.SendAsync(ProvisioningHostFactory.Register(device))).Content.ReadFromJsonAsync<ProvisionResponse>())!;
            certificates[device.DeviceId] = issued.Certificate;
        }

        using (var leaf = X509Certificate2.CreateFromPem(certificates[kept.DeviceId]))
        {
            var distribution = leaf.Extensions["2.5.29.31"];
            Assert.NotNull(distribution);
            Assert.Contains("/api/v1/ca/crl/devices.crl", new AsnEncodedData(distribution).Format(false), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/admin/devices/{revoked.DeviceId}/revoke", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/admin/devices/{deleted.DeviceId}")).StatusCode);

        await File.WriteAllBytesAsync(Path.Combine(_work, "devices.crl"), await client.GetByteArrayAsync("/api/v1/ca/crl/devices.crl"));
        await File.WriteAllTextAsync(Path.Combine(_work, "root.pem"), await client.GetStringAsync("/api/v1/ca/root.pem"));
        await ProcessRunner.OpenSslAsync(_work, "crl", "-inform", "DER", "-in", "devices.crl", "-out", "devices.crl.pem");
        var issuerPem = Pems(certificates[kept.DeviceId])[1];
        await File.WriteAllTextAsync(Path.Combine(_work, "issuer.pem"), issuerPem);
        var crlCheck = await ProcessRunner.RunAsync("openssl", ["crl", "-in", "devices.crl.pem", "-CAfile", "issuer.pem", "-noout"], _work);
        Assert.Contains("verify OK", crlCheck.Output + crlCheck.Error, StringComparison.Ordinal);

        foreach (var (device, expectRevoked) in new[] { (revoked, true), (deleted, true), (kept, false) })
        {
            await File.WriteAllTextAsync(Path.Combine(_work, "leaf.pem"), Pems(certificates[device.DeviceId])[0]);
            var verify = await ProcessRunner.RunAsync("openssl", ["verify", "-crl_check", "-CAfile", "root.pem", "-untrusted", "issuer.pem", "-CRLfile", "devices.crl.pem", "leaf.pem"], _work);
            if (expectRevoked)
            {
                Assert.Contains("certificate revoked", verify.Output + verify.Error, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(verify.ExitCode == 0, verify.Output + verify.Error);
            }
        }
    }

    [Fact]
    public async Task Intermediates_are_name_constrained_the_device_CA_to_the_base_domain_the_CSR_CAs_to_private_IPv4_only()
    {
        var host = Start();
        using var client = host.Device();
        var device = await host.CreateDeviceAsync();
        var issued = (await (await client.SendAsync(ProvisioningHostFactory.Register(device))).Content.ReadFromJsonAsync<ProvisionResponse>())!;
        await File.WriteAllTextAsync(Path.Combine(_work, "device-ca.pem"), Pems(issued.Certificate)[1]);
        var deviceCa = await ProcessRunner.OpenSslAsync(_work, "x509", "-in", "device-ca.pem", "-noout", "-ext", "nameConstraints");
        Assert.Contains("DNS:devices.localhost", deviceCa, StringComparison.Ordinal);
        Assert.Contains("Excluded", deviceCa, StringComparison.Ordinal);

        var csr = await (await client.PostAsJsonAsync("/api/v1/csr", new { content = PrivateCsrTests.Csr("192.168.7.7") })).Content.ReadFromJsonAsync<JsonElement>();
        await File.WriteAllTextAsync(Path.Combine(_work, "webhook-ca.pem"), Pems(csr.GetProperty("certificate").GetString()!)[1]);
        var webhookCa = await ProcessRunner.OpenSslAsync(_work, "x509", "-in", "webhook-ca.pem", "-noout", "-ext", "nameConstraints");
        Assert.Contains("IP:192.168.0.0/255.255.0.0", webhookCa, StringComparison.Ordinal);
        var excluded = webhookCa[webhookCa.IndexOf("Excluded", StringComparison.Ordinal)..];
        Assert.Contains("email:", excluded, StringComparison.Ordinal);
        Assert.Contains("IP:0:0:0:0", excluded, StringComparison.Ordinal); // ::/0
        Assert.Contains("URI:", excluded, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_shows_each_checks_status_to_anyone_and_its_description_only_to_admins()
    {
        var host = Start();
        using var anonymous = host.Device();
        var open = await anonymous.GetFromJsonAsync<JsonElement>("/api/health");
        Assert.Equal("Healthy", open.GetProperty("status").GetString());
        foreach (var check in open.GetProperty("checks").EnumerateObject())
        {
            Assert.False(check.Value.TryGetProperty("description", out _), check.Name);
        }

        using var admin = host.Admin();
        var detailed = await admin.GetFromJsonAsync<JsonElement>("/api/health");
        Assert.Contains("Private CA", detailed.GetProperty("checks").GetProperty("issuer").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Liveness_touches_nothing_and_readiness_runs_the_checks()
    {
        var host = Start();
        using var client = host.Device();

        var live = await client.GetFromJsonAsync<JsonElement>("/api/health/live");
        Assert.Equal("Healthy", live.GetProperty("status").GetString());
        Assert.Empty(live.GetProperty("checks").EnumerateObject());

        var ready = await client.GetAsync("/api/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var checks = (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty("issuer").GetProperty("status").GetString());
    }

    [Fact]
    public async Task CSR_abuse_is_bounded_per_network_pending_cap_metadata_size_and_denied_retention()
    {
        var host = Start(new()
        {
            ["Provisioning:PrivateCa:Approval"] = "Manual",
            ["Provisioning:PrivateCa:MaxPendingPerClient"] = "2",
            ["Provisioning:Http:KnownProxies:0"] = "127.0.0.0/8",
        });
        using var client = host.Device();

        // One IPv6 /64 is one client: a second address in it is refused within the minute, the next /64 is not.
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(client, "2001:db8:0:1::1", PrivateCsrTests.Csr("10.1.0.1"))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PostAsync(client, "2001:db8:0:1:ffff::2", PrivateCsrTests.Csr("10.1.0.2"))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(client, "2001:db8:0:2::1", PrivateCsrTests.Csr("10.1.0.3"))).StatusCode);

        // Pending requests per network are capped.
        host.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(client, "2001:db8:0:1::1", PrivateCsrTests.Csr("10.1.0.4"))).StatusCode);
        host.Time.Advance(TimeSpan.FromMinutes(2));
        await HttpAssert.ProblemAsync(await PostAsync(client, "2001:db8:0:1::1", PrivateCsrTests.Csr("10.1.0.5")), 429);

        // Metadata that would not fit the column once escaped: 400, nothing stored.
        host.Time.Advance(TimeSpan.FromMinutes(2));
        var metadata = Enumerable.Range(0, 32).ToDictionary(i => "k" + i, _ => new string('"', 256));
        var oversize = new HttpRequestMessage(HttpMethod.Post, "/api/v1/csr") { Content = JsonContent.Create(new { content = PrivateCsrTests.Csr("10.1.0.6"), metadata }) };
        oversize.Headers.Add("X-Forwarded-For", "198.51.100.1");
        await HttpAssert.ProblemAsync(await client.SendAsync(oversize), 400);

        // A denied request is kept for a week, then purged.
        var denied = await (await PostAsync(client, "198.51.100.2", PrivateCsrTests.Csr("8.8.8.8"))).Content.ReadFromJsonAsync<JsonElement>();
        var id = denied.GetProperty("request_id").GetString();
        Assert.Equal("denied", denied.GetProperty("status").GetString());
        host.Time.Advance(TimeSpan.FromMinutes(1)); // the purge job's first run
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/csr/{id}")).StatusCode);
        host.Time.Advance(TimeSpan.FromDays(8));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await client.GetAsync($"/api/v1/csr/{id}")).StatusCode != HttpStatusCode.NotFound)
        {
            Assert.True(DateTime.UtcNow < deadline, "the denied request was not purged");
            host.Time.Advance(TimeSpan.FromHours(1));
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Behind_a_TLS_proxy_given_as_a_network_the_portal_cookie_is_Secure()
    {
        var host = Start(new() { ["Provisioning:Http:KnownProxies:0"] = "127.0.0.0/8" });
        using var probe = host.Device();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = probe.BaseAddress };
        var token = AdminPortalTests.Token(await browser.GetStringAsync("/admin/login"));
        using var login = new HttpRequestMessage(HttpMethod.Post, "/admin/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = host.AdminKey, ["__RequestVerificationToken"] = token }),
        };
        login.Headers.Add("X-Forwarded-Proto", "https");
        login.Headers.Add("X-Forwarded-For", "198.51.100.9");
        var response = await browser.SendAsync(login);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("sndctl-admin=", StringComparison.Ordinal));
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    private ProvisioningHostFactory Start(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var host = new ProvisioningHostFactory(settings: settings) { TestServices = services };
        _hosts.Add(host);
        return host;
    }

    private static async Task<string> WaitForRevokedSerialsAsync(ProvisioningHostFactory host, int count)
    {
        using var client = host.Device();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            host.Time.Advance(TimeSpan.FromMinutes(2)); // past the CRL cache
            var der = await client.GetByteArrayAsync("/api/v1/ca/crl/devices.crl");
            var text = CrlSerials(der);
            if (text.Count >= count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(count, text.Count);
                return string.Join(",", text);
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The serial numbers (hex) on a DER CRL.</summary>
    private static List<string> CrlSerials(byte[] der)
    {
        var serials = new List<string>();
        var tbs = new System.Formats.Asn1.AsnReader(der, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence().ReadSequence();
        tbs.ReadInteger(); // version
        tbs.ReadSequence(); // signature
        tbs.ReadSequence(); // issuer
        tbs.ReadEncodedValue(); // thisUpdate
        if (tbs.HasData && tbs.PeekTag().TagValue is 23 or 24)
        {
            tbs.ReadEncodedValue(); // nextUpdate
        }

        if (tbs.HasData && tbs.PeekTag().TagClass == System.Formats.Asn1.TagClass.Universal)
        {
            var entries = tbs.ReadSequence();
            while (entries.HasData)
            {
                serials.Add(Convert.ToHexString(entries.ReadSequence().ReadIntegerBytes().Span));
            }
        }

        return serials;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string forwardedFor, string csr)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/csr") { Content = JsonContent.Create(new { content = csr }) };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return client.SendAsync(request);
    }

    private static string DeviceCsr(string hostname)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return DeviceCsrs.For(hostname, key).CreateSigningRequestPem();
    }

    private static string[] Pems(string chain)
        => [.. chain.Split("-----END CERTIFICATE-----", StringSplitOptions.RemoveEmptyEntries).Where(p => p.Contains("BEGIN", StringComparison.Ordinal)).Select(p => p.Trim() + "\n-----END CERTIFICATE-----\n")];

    /// <summary>Wraps the configured issuer so that issuance waits for the test's signal.</summary>
    private sealed class GatedIssuer(ICertificateIssuer inner, Task gate) : ICertificateIssuer
    {
        public string Name => inner.Name;

        public static void Install(IServiceCollection services, Task gate)
        {
            var original = services.Last(d => d.ServiceType == typeof(ICertificateIssuer));
            services.RemoveAll<ICertificateIssuer>();
            services.AddScoped<ICertificateIssuer>(sp => new GatedIssuer((ICertificateIssuer)ActivatorUtilities.CreateInstance(sp, original.ImplementationType!), gate));
        }

        public async Task<IssuedCertificate> IssueAsync(CertificateIssueRequest request, CancellationToken cancellationToken)
        {
            await gate.WaitAsync(cancellationToken);
            return await inner.IssueAsync(request, cancellationToken);
        }

        public Task RevokeAsync(DeviceCertificate certificate, CancellationToken cancellationToken) => inner.RevokeAsync(certificate, cancellationToken);
    }
}
