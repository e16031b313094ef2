using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Sndctl.Provisioning.Acme;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The clients devices run (Debian's lego, certbot and Caddy) against the ACME front door of the reference host,
/// started as an operator starts it: HTTPS with a Kestrel certificate, the ACME issuer in front of Pebble over DNS-01
/// (pebble-challtestsrv). They know nothing of us but a directory URL, a device ID and its secret.
/// </summary>
public sealed class AcmeFrontDoorClientTests : IAsyncLifetime
{
    private const string AdminKey = "front-door-admin-key-of-at-least-32-characters";
    private const string BaseDomain = "devices.example.test";
    private readonly AcmeLab _lab = AcmeLab.Require();
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-frontdoor-").FullName;
    private readonly List<HostProcess> _hosts = [];
    private string _tlsRoot = null!;

    public ValueTask InitializeAsync()
    {
        _tlsRoot = WriteTlsFiles(_work);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        Directory.Delete(_work, recursive: true);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lego_registers_renews_and_revokes_with_the_devices_EAB_and_the_certificate_chains_to_the_upstream_CA()
    {
        var host = await StartAsync();
        var device = await CreateDeviceAsync(host);
        var lego = Path.Combine(_work, "lego");

        var (code, output) = await LegoAsync(host, device, device.DeviceId, device.Secret, lego, "run");
        Assert.True(code == 0, output);
        var first = await File.ReadAllTextAsync(Path.Combine(lego, "certificates", device.Hostname + ".crt"), Ct);
        await AssertUpstreamChainAsync(first, device.Hostname);

        (code, output) = await LegoAsync(host, device, device.DeviceId, device.Secret, lego, "renew", "--days", "100000", "--no-random-sleep");
        Assert.True(code == 0, output);
        var renewed = await File.ReadAllTextAsync(Path.Combine(lego, "certificates", device.Hostname + ".crt"), Ct);
        await AssertUpstreamChainAsync(renewed, device.Hostname);
        using var renewedLeaf = X509Certificate2.CreateFromPem(renewed);
        Assert.NotEqual(X509Certificate2.CreateFromPem(first).SerialNumber, renewedLeaf.SerialNumber);

        (code, output) = await LegoAsync(host, device, device.DeviceId, device.Secret, lego, "revoke");
        Assert.True(code == 0, output);
        Assert.Equal("Revoked", await _lab.GetCertificateStatusAsync(renewedLeaf.SerialNumber));

        using var admin = Admin(host);
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}", Ct);
        var certificates = details.GetProperty("certificates").EnumerateArray().ToList();
        Assert.Equal(2, certificates.Count);
        Assert.Contains(certificates, c => c.GetProperty("serialNumber").GetString() == renewedLeaf.SerialNumber && c.GetProperty("revokedAt").ValueKind == JsonValueKind.String);
    }

    [Fact]
    public async Task Certbot_gets_the_devices_certificate_with_its_EAB()
    {
        var host = await StartAsync();
        var device = await CreateDeviceAsync(host);
        var config = Path.Combine(_work, "certbot");
        var (code, output, error) = await ProcessRunner.RunAsync("certbot",
            ["certonly", "--non-interactive", "--agree-tos", "-m", "ops@example.test", "--server", host.Url + "/acme/directory",
             "--eab-kid", device.DeviceId, "--eab-hmac-key", device.Secret, "-d", device.Hostname,
             "--manual", "--preferred-challenges", "dns", "--manual-auth-hook", "/bin/true",
             "--config-dir", config, "--work-dir", config, "--logs-dir", config],
            _work, new Dictionary<string, string?> { ["REQUESTS_CA_BUNDLE"] = _tlsRoot }, timeout: TimeSpan.FromMinutes(3));
        Assert.True(code == 0, output + error);
        await AssertUpstreamChainAsync(await File.ReadAllTextAsync(Path.Combine(config, "live", device.Hostname, "fullchain.pem"), Ct), device.Hostname);
    }

    [Fact]
    public async Task Caddy_serves_HTTPS_for_the_device_hostname_that_curl_verifies_against_the_upstream_root()
    {
        var host = await StartAsync();
        var device = await CreateDeviceAsync(host);
        var (httpPort, httpsPort) = (Ports.Free(), Ports.Free());
        var home = Directory.CreateDirectory(Path.Combine(_work, "caddy")).FullName;
        var caddyfile = Path.Combine(home, "Caddyfile");
        await File.WriteAllTextAsync(caddyfile, $$"""
            {
                acme_ca {{host.Url}}/acme/directory
                acme_ca_root {{_tlsRoot}}
                acme_eab {
                    key_id {{device.DeviceId}}
                    mac_key {{device.Secret}}
                }
                email ops@example.test
                http_port {{httpPort}}
                https_port {{httpsPort}}
                storage file_system {{home}}/storage
                skip_install_trust
                admin off
                auto_https disable_redirects
            }
            {{device.Hostname}} {
                bind 127.0.0.1
                respond "hello from {{device.DeviceId}}"
            }
            """, Ct);
        var (root, _) = await _lab.GetIssuingCertificatesAsync();
        var upstreamRoot = Path.Combine(home, "upstream-root.pem");
        await File.WriteAllTextAsync(upstreamRoot, root.ExportCertificatePem(), Ct);

        var start = new System.Diagnostics.ProcessStartInfo("caddy", ["run", "--config", caddyfile, "--adapter", "caddyfile"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var variable in new[] { "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME" })
        {
            start.Environment[variable] = home;
        }

        using var caddy = System.Diagnostics.Process.Start(start)!;
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        caddy.OutputDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        caddy.ErrorDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        caddy.BeginOutputReadLine();
        caddy.BeginErrorReadLine();
        try
        {
            var deadline = DateTimeOffset.UtcNow.AddMinutes(2);
            var (code, output, error) = (1, "", "");
            while (DateTimeOffset.UtcNow < deadline && code != 0)
            {
                Assert.False(caddy.HasExited, string.Join('\n', log));
                (code, output, error) = await ProcessRunner.RunAsync("curl",
                    ["--silent", "--show-error", "--max-time", "5", "--cacert", upstreamRoot, "--resolve", $"{device.Hostname}:{httpsPort}:127.0.0.1", $"https://{device.Hostname}:{httpsPort}/"],
                    timeout: TimeSpan.FromSeconds(10));
                if (code != 0)
                {
                    await Task.Delay(500, Ct);
                }
            }

            Assert.True(code == 0, $"curl: {output}{error}\ncaddy:\n{string.Join('\n', log)}");
            Assert.Equal("hello from " + device.DeviceId, output);
        }
        finally
        {
            caddy.Kill(entireProcessTree: true);
            await caddy.WaitForExitAsync(Ct);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Beside_the_front_door_the_device_agent_gets_its_certificate_over_HTTPS_from_the_upstream_CA()
    {
        var host = await StartAsync();
        var device = await CreateDeviceAsync(host);
        var agent = new Device.DeviceAgent(Path.Combine(_work, "agent"));
        var (secretFile, dir) = agent.Prepare(device);

        // Without the server's TLS root the agent refuses the connection (curl verifies) and says why; with it, the certificate comes.
        var untrusted = await agent.RunAsync(host.Url, device, secretFile, dir, ["--once"]);
        Assert.True(untrusted.ExitCode == 1, untrusted.Output);
        Assert.Contains("--cacert", untrusted.Output, StringComparison.Ordinal);
        var run = await agent.RunAsync(host.Url, device, secretFile, dir, ["--once", "--cacert", _tlsRoot]);
        Assert.True(run.ExitCode == 0, run.Output);
        await AssertUpstreamChainAsync(await File.ReadAllTextAsync(Path.Combine(dir, "cert.pem"), Ct), device.Hostname);
    }

    [Fact]
    public async Task Lego_without_EAB_with_a_wrong_secret_for_another_devices_name_or_for_a_disabled_device_gets_nothing()
    {
        var host = await StartAsync();
        var device = await CreateDeviceAsync(host);
        var other = await CreateDeviceAsync(host);

        var (code, output) = await LegoAsync(host, device, null, null, Path.Combine(_work, "no-eab"), "run");
        Assert.NotEqual(0, code);
        Assert.True(output.Contains("requires External Account Binding", StringComparison.Ordinal), output); // lego reads meta.externalAccountRequired

        (code, output) = await LegoAsync(host, device, device.DeviceId, other.Secret, Path.Combine(_work, "wrong"), "run");
        Assert.NotEqual(0, code);
        Assert.Contains("unauthorized", output, StringComparison.Ordinal);

        (code, output) = await LegoAsync(host, other, device.DeviceId, device.Secret, Path.Combine(_work, "stolen-name"), "run");
        Assert.NotEqual(0, code);
        Assert.Contains("rejectedIdentifier", output, StringComparison.Ordinal);

        using var admin = Admin(host);
        Assert.True((await admin.PostAsync($"/api/admin/devices/{other.DeviceId}/disable", null, Ct)).IsSuccessStatusCode);
        (code, output) = await LegoAsync(host, other, other.DeviceId, other.Secret, Path.Combine(_work, "disabled"), "run");
        Assert.NotEqual(0, code);
        Assert.Contains("disabled", output, StringComparison.Ordinal);

        // Only the stolen-name attempt made an account (device's own EAB, a refused name); nobody got a certificate.
        foreach (var id in new[] { device.DeviceId, other.DeviceId })
        {
            var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{id}", Ct);
            Assert.Equal(0, details.GetProperty("certificates").GetArrayLength());
        }
    }

    [Fact]
    public async Task An_order_under_a_spent_CA_budget_is_processing_with_the_queues_Retry_After()
    {
        var host = await StartAsync(new()
        {
            ["Provisioning__Acme__RateLimits__CertificatesPerRegisteredDomain"] = "1",
            ["Provisioning__Acme__RateLimits__RegisteredDomainWindow"] = "7.00:00:00",
        });
        var first = await CreateDeviceAsync(host);
        var second = await CreateDeviceAsync(host);
        Assert.Equal(0, (await LegoAsync(host, first, first.DeviceId, first.Secret, Path.Combine(_work, "first"), "run")).Code);

        using var http = Https(host);
        using var key = AcmeAccountKey.Create();
        var client = new AcmeClient(http, new Uri(host.Url + "/acme/directory"), key);
        await client.CreateAccountAsync(new AcmeNewAccountRequest { TermsOfServiceAgreed = true, ExternalAccountBinding = AcmeExternalAccountBinding.FromBase64Url(second.DeviceId, second.Secret) }, Ct);
        var order = await client.NewOrderAsync(new AcmeOrderRequest { Identifiers = [AcmeIdentifier.Dns(second.Hostname)] }, Ct);
        using var deviceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = DeviceCsrs.For(second.Hostname, deviceKey);
        order = await client.FinalizeOrderAsync(order, request.CreateSigningRequest(), Ct);
        Assert.Equal(AcmeStatus.Processing, order.Status);

        // Polled as a client polls: still processing, told to come back when the queue says (hours to days, not seconds).
        var raw = new RawAcme(http, host.Url);
        var accountUrl = (await client.FindAccountAsync(Ct))!.Location.AbsoluteUri;
        using var poll = await raw.PostAsync(order.Location.AbsoluteUri, RawAcme.Jws(key, order.Location.AbsoluteUri, await raw.NonceAsync(), accountUrl, null));
        Assert.Equal("processing", (await poll.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
        Assert.True(poll.Headers.RetryAfter?.Delta > TimeSpan.FromMinutes(5), poll.Headers.RetryAfter?.ToString());
        using var admin = Admin(host);
        var budget = await admin.GetFromJsonAsync<JsonElement>("/api/admin/acme/budget", Ct);
        Assert.Equal(1, budget.GetProperty("queue").GetProperty("depth").GetInt32());
    }

    private async Task<HostProcess> StartAsync(Dictionary<string, string?>? extra = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["Provisioning__DataDirectory"] = Path.Combine(_work, "data-" + _hosts.Count),
            ["Provisioning__BaseDomain"] = BaseDomain,
            ["Provisioning__Admin__ApiKeys__0"] = AdminKey,
            ["Provisioning__Issuer"] = "Acme",
            ["Provisioning__Acme__DirectoryUrl"] = _lab.Directory.AbsoluteUri,
            ["Provisioning__Acme__AcceptTermsOfService"] = "true",
            ["Provisioning__Acme__Email"] = "ops@example.test",
            ["Provisioning__Acme__TrustedRootFile"] = _lab.TlsRootFile,
            ["Provisioning__Acme__PropagationNameservers__0"] = _lab.ChallTestSrvDns,
            ["Provisioning__Dns__Provider"] = "ChallTestSrv",
            ["Provisioning__Dns__ChallTestSrv__ManagementUrl"] = _lab.ChallTestSrv.AbsoluteUri,
            ["Provisioning__AcmeServer__Enabled"] = "true",
            ["Kestrel__Certificates__Default__Path"] = Path.Combine(_work, "tls.pem"),
            ["Kestrel__Certificates__Default__KeyPath"] = Path.Combine(_work, "tls.key"),
        };
        foreach (var (name, value) in extra ?? [])
        {
            environment[name] = value;
        }

        var host = HostProcess.Start(environment, $"https://127.0.0.1:{Ports.Free()}");
        _hosts.Add(host);
        using var http = Https(host);
        var deadline = DateTimeOffset.UtcNow.AddSeconds(90);
        while (true)
        {
            Assert.False(host.HasExited, host.Output);
            try
            {
                if ((await http.GetAsync("/api/health/ready", Ct)).IsSuccessStatusCode)
                {
                    return host;
                }
            }
            catch (HttpRequestException)
            {
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, host.Output);
            await Task.Delay(200, Ct);
        }
    }

    private async Task<CreatedDevice> CreateDeviceAsync(HostProcess host)
    {
        using var admin = Admin(host);
        using var response = await admin.PostAsJsonAsync("/api/admin/devices", new { }, Ct);
        return (await response.Content.ReadFromJsonAsync<CreatedDevice>(Ct))!;
    }

    private async Task<(int Code, string Output)> LegoAsync(HostProcess host, CreatedDevice device, string? keyId, string? macKey, string path, params string[] command)
    {
        List<string> arguments = ["--server", host.Url + "/acme/directory", "--accept-tos", "--email", "ops@example.test", "--path", path, "--domains", device.Hostname,
            "--http", "--http.port", $"127.0.0.1:{Ports.Free()}"];
        if (keyId is not null)
        {
            arguments.AddRange(["--eab", "--kid", keyId, "--hmac", macKey!]);
        }

        var (code, output, error) = await ProcessRunner.RunAsync("lego", [.. arguments, .. command], _work,
            new Dictionary<string, string?> { ["LEGO_CA_CERTIFICATES"] = _tlsRoot }, timeout: TimeSpan.FromMinutes(3));
        return (code, output + error);
    }

    private async Task AssertUpstreamChainAsync(string chainPem, string hostname)
    {
        var (root, _) = await _lab.GetIssuingCertificatesAsync();
        Assert.Equal(X509ChainStatusFlags.NoError, AcmeLab.VerifyChain(chainPem, root));
        using var leaf = X509Certificate2.CreateFromPem(chainPem);
        Assert.Equal(hostname, leaf.GetNameInfo(X509NameType.DnsName, false));
    }

    private HttpClient Https(HostProcess host)
    {
        var root = X509Certificate2.CreateFromPem(File.ReadAllText(_tlsRoot));
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(root);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return certificate is not null && chain.Build(certificate);
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri(host.Url), Timeout = TimeSpan.FromSeconds(60) };
    }

    private HttpClient Admin(HostProcess host)
    {
        var admin = Https(host);
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return admin;
    }

    /// <summary>A TLS CA and a server certificate for 127.0.0.1 and localhost (Kestrel's); returns the CA's PEM path, which the clients trust.</summary>
    private static string WriteTlsFiles(string directory)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=front door test TLS CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        using var leaf = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(16));

        File.WriteAllText(Path.Combine(directory, "tls.pem"), leaf.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "tls.key"), key.ExportPkcs8PrivateKeyPem());
        var root = Path.Combine(directory, "tls-ca.pem");
        File.WriteAllText(root, ca.ExportCertificatePem());
        return root;
    }
}
