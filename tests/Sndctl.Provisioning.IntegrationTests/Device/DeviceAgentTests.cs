using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests.Device;

/// <summary>
/// The reference device agent (clients/sh/sndctl-device) as a device runs it: under <c>busybox sh</c> with a PATH that
/// holds BusyBox's applets, curl and openssl and nothing else, against the reference host over loopback (the private
/// CA, the embedded DNS server answering the fleet zone, so the agent's own-name check asks a real resolver).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // A device: BusyBox, file modes.
public sealed class DeviceAgentTests : IAsyncLifetime
{
    private const string Zone = "devices.example.test";
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-agent-").FullName;
    private readonly int _dnsPort = Ports.Free();
    private ProvisioningHostFactory _host = null!;
    private string _server = null!;
    private DeviceAgent _agent = null!;

    public ValueTask InitializeAsync()
    {
        _host = new ProvisioningHostFactory(settings: new Dictionary<string, string?>
        {
            ["Provisioning:BaseDomain"] = Zone,
            ["Provisioning:Dns:Provider"] = "Authoritative",
            ["Provisioning:Dns:Authoritative:Endpoints:0"] = $"127.0.0.1:{_dnsPort}",
            ["Provisioning:Dns:Authoritative:Nameservers:0:Name"] = $"ns1.{Zone}",
            ["Provisioning:Dns:Authoritative:Nameservers:0:Addresses:0"] = "127.0.0.1",
        });
        using var client = _host.Device();
        _server = client.BaseAddress!.AbsoluteUri.TrimEnd('/');
        _agent = new DeviceAgent(_work);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _host.DeleteData();
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task Registers_with_a_key_made_on_the_device_replaces_the_factory_secret_and_leaves_everything_alone_on_a_second_run()
    {
        var device = await _host.CreateDeviceAsync();
        var (secretFile, dir) = Prepare(device);
        var reloads = Path.Combine(_work, "reloads");

        var first = await RunAgentAsync(device, secretFile, dir, ["--once", "--reload", $"echo reloaded >> {reloads}", "--addresses", "192.168.1.23", "--resolver", $"127.0.0.1:{_dnsPort}"]);
        Assert.True(first.ExitCode == 0, first.Output);

        // The key was made here, is private, and the certificate is for it and for the device's name, from the CA.
        var key = Path.Combine(dir, "key.pem");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        var root = Path.Combine(_work, "root.pem");
        using (var client = _host.Device())
        {
            await File.WriteAllTextAsync(root, await client.GetStringAsync("/api/v1/ca/root.pem"));
        }

        var certificate = Path.Combine(dir, "cert.pem");
        await ProcessRunner.OpenSslAsync(_work, "verify", "-CAfile", root, "-untrusted", certificate, "-verify_hostname", device.Hostname, certificate);
        Assert.Equal(
            await ProcessRunner.OpenSslAsync(_work, "x509", "-in", certificate, "-noout", "-pubkey"),
            await ProcessRunner.OpenSslAsync(_work, "pkey", "-in", key, "-pubout"));
        Assert.Equal(["reloaded"], await File.ReadAllLinesAsync(reloads));

        // The factory secret is gone: the file holds one only the device knows, which works; the factory one does not.
        var newSecret = (await File.ReadAllTextAsync(secretFile)).Trim();
        Assert.NotEqual(device.Secret, newSecret);
        Assert.Equal(HttpStatusCode.Unauthorized, (await AuthenticateAsync(device.DeviceId, device.Secret, "192.168.1.23")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await AuthenticateAsync(device.DeviceId, newSecret, "192.168.1.23")).StatusCode);
        Assert.DoesNotContain(device.Secret, first.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(newSecret, first.Output, StringComparison.Ordinal);

        // The admin sees it: no factory secret, its name resolves on the device's LAN; the events say who did what.
        using var admin = _host.Admin();
        var view = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        Assert.False(view.GetProperty("factorySecret").GetBoolean());
        Assert.Equal("ok", view.GetProperty("resolution").GetString());
        Assert.Equal(["192.168.1.23"], view.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));
        var events = view.GetProperty("events").EnumerateArray().Select(e => (e.GetProperty("type").GetString(), e.GetProperty("actor").GetString())).ToList();
        Assert.Contains(("device.secret_requested", "device"), events);
        Assert.Contains(("device.secret_rotated", "device"), events);
        var factory = await admin.GetFromJsonAsync<JsonElement>("/api/admin/devices?factorySecret=true");
        Assert.DoesNotContain(device.DeviceId, factory.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("deviceId").GetString()));

        // Second run: the same certificate, not rewritten, no reload, no second rotation.
        var written = File.GetLastWriteTimeUtc(certificate);
        var pem = await File.ReadAllTextAsync(certificate);
        var second = await RunAgentAsync(device, secretFile, dir, ["--once", "--reload", $"echo reloaded >> {reloads}", "--addresses", "192.168.1.23", "--resolver", $"127.0.0.1:{_dnsPort}"]);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Equal(pem, await File.ReadAllTextAsync(certificate));
        Assert.Equal(written, File.GetLastWriteTimeUtc(certificate));
        Assert.Equal(["reloaded"], await File.ReadAllLinesAsync(reloads));
        Assert.Equal(newSecret, (await File.ReadAllTextAsync(secretFile)).Trim());
    }

    [Fact]
    public async Task A_wrong_secret_or_a_disabled_device_exits_2_and_a_resolver_that_drops_the_name_is_reported_blocked()
    {
        var device = await _host.CreateDeviceAsync();
        var (secretFile, dir) = Prepare(device);
        await File.WriteAllTextAsync(secretFile, "not-the-secret\n");
        var wrong = await RunAgentAsync(device, secretFile, dir, ["--once"]);
        Assert.True(wrong.ExitCode == 2, wrong.Output);
        Assert.False(File.Exists(Path.Combine(dir, "cert.pem")));

        // The right secret, but a LAN resolver that answers nothing for the name (as rebinding protection does).
        await File.WriteAllTextAsync(secretFile, device.Secret + "\n");
        var blocked = await RunAgentAsync(device, secretFile, dir, ["--once", "--no-rotate-secret", "--hostname", device.Hostname, "--addresses", "10.1.2.3", "--resolver", $"127.0.0.1:{Ports.Free()}"]);
        Assert.True(blocked.ExitCode == 0, blocked.Output);
        Assert.Equal(device.Secret, (await File.ReadAllTextAsync(secretFile)).Trim()); // --no-rotate-secret
        using var admin = _host.Admin();
        Assert.Equal("blocked", (await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}")).GetProperty("resolution").GetString());
        var statistics = await admin.GetFromJsonAsync<JsonElement>("/api/admin/statistics");
        Assert.True(statistics.GetProperty("devicesByResolution").GetProperty("blocked").GetInt32() >= 1);

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/disable", null)).StatusCode);
        var disabled = await RunAgentAsync(device, secretFile, dir, ["--once", "--no-rotate-secret", "--hostname", device.Hostname]);
        Assert.True(disabled.ExitCode == 2, disabled.Output);
        Assert.Contains("disabled", disabled.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task While_the_CA_is_unavailable_it_exits_3_with_the_seconds()
    {
        // An ACME CA that does not answer: the server says 503 with Retry-After.
        await using var host = new ProvisioningHostFactory(settings: new Dictionary<string, string?>
        {
            ["Provisioning:BaseDomain"] = Zone,
            ["Provisioning:Issuer"] = "Acme",
            ["Provisioning:Acme:DirectoryUrl"] = $"https://127.0.0.1:{Ports.Free()}/dir",
            ["Provisioning:Acme:AcceptTermsOfService"] = "true",
            ["Provisioning:Acme:Email"] = "ops@example.test",
            ["Provisioning:Dns:Provider"] = "Authoritative",
            ["Provisioning:Dns:Authoritative:Endpoints:0"] = $"127.0.0.1:{Ports.Free()}",
            ["Provisioning:Dns:Authoritative:Nameservers:0:Name"] = $"ns1.{Zone}",
            ["Provisioning:Dns:Authoritative:Nameservers:0:Addresses:0"] = "127.0.0.1",
        });
        using var client = host.Device();
        var device = await host.CreateDeviceAsync();
        var (secretFile, dir) = Prepare(device);

        var result = await RunAgentAsync(device, secretFile, dir, ["--once"], server: client.BaseAddress!.AbsoluteUri.TrimEnd('/'));
        Assert.True(result.ExitCode == 3, result.Output);
        Assert.True(int.TryParse(result.StandardOutput.Trim(), out var seconds) && seconds > 0, result.Output);
        Assert.False(File.Exists(Path.Combine(dir, "cert.pem")));
        host.DeleteData();
    }

    [Theory]
    [InlineData(false)] // Power lost after the server answered, before the new secret reached the file.
    [InlineData(true)]  // Power lost after the file was written, before any call with the new secret.
    public async Task Killed_while_replacing_the_factory_secret_it_is_never_locked_out(bool afterTheWrite)
    {
        var device = await _host.CreateDeviceAsync();
        var (secretFile, dir) = Prepare(device);

        // The agent's mv, for the secret file only, kills the agent (and its subshells) before or after moving it.
        var killing = DevicePath(Path.Combine(_work, "bin-killing"));
        File.Delete(Path.Combine(killing, "mv"));
        await File.WriteAllTextAsync(Path.Combine(killing, "mv"), $$"""
            #!{{Busybox}} sh
            case "$*" in
              *"{{secretFile}}"*)
                {{(afterTheWrite ? Busybox + " mv \"$@\"" : ":")}}
                p=$PPID
                while [ "$p" -gt 1 ]; do
                  parent=$(awk '{print $4}' /proc/$p/stat)
                  grep -q sndctl-device /proc/$p/cmdline 2>/dev/null && kill -9 "$p"
                  p=$parent
                done
                exit 1 ;;
            esac
            exec {{Busybox}} mv "$@"
            """);
        File.SetUnixFileMode(Path.Combine(killing, "mv"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var killed = await RunAgentAsync(device, secretFile, dir, ["--once"], path: killing);
        Assert.NotEqual(0, killed.ExitCode);
        var held = (await File.ReadAllTextAsync(secretFile)).Trim();
        Assert.Equal(afterTheWrite, held != device.Secret);
        Assert.False(File.Exists(Path.Combine(dir, "cert.pem")));

        // Whatever the file holds works: the next boot finishes the job.
        var next = await RunAgentAsync(device, secretFile, dir, ["--once"]);
        Assert.True(next.ExitCode == 0, next.Output);
        var final = (await File.ReadAllTextAsync(secretFile)).Trim();
        Assert.Equal(HttpStatusCode.OK, (await AuthenticateAsync(device.DeviceId, final)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await AuthenticateAsync(device.DeviceId, device.Secret)).StatusCode);
    }

    [Fact]
    public async Task Without_once_it_keeps_running_checks_in_again_within_max_wait_and_reloads_only_once()
    {
        var device = await _host.CreateDeviceAsync();
        var (secretFile, dir) = Prepare(device);
        var reloads = Path.Combine(_work, "loop-reloads");

        // The device's curl, counting the register calls it makes.
        var calls = Path.Combine(_work, "register-calls");
        var counting = DevicePath(Path.Combine(_work, "bin-counting"));
        File.Delete(Path.Combine(counting, "curl"));
        await File.WriteAllTextAsync(Path.Combine(counting, "curl"), $$"""
            #!{{Busybox}} sh
            case "$*" in *"/api/v1/register"*) echo call >> "{{calls}}" ;; esac
            exec /usr/bin/curl "$@"
            """);
        File.SetUnixFileMode(Path.Combine(counting, "curl"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var agent = _agent.Start(_server, device, secretFile, dir, ["--max-wait", "1", "--reload", $"echo reloaded >> {reloads}"], counting);
        try
        {
            // Several check-ins (every second at most): each is a register call answered with the same certificate.
            int CheckIns() => File.Exists(calls) ? File.ReadAllLines(calls).Length : 0;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline && CheckIns() < 3)
            {
                Assert.False(agent.HasExited, "the agent stopped");
                await Task.Delay(250);
            }

            Assert.True(CheckIns() >= 3, $"{CheckIns()} check-ins within a minute with --max-wait 1");
            Assert.Equal(["reloaded"], await File.ReadAllLinesAsync(reloads));
            Assert.True(File.Exists(Path.Combine(dir, "cert.pem")));
        }
        finally
        {
            agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();
        }
    }

    private static string Busybox => DeviceAgent.Busybox;

    private static string DevicePath(string directory) => DeviceAgent.DevicePath(directory);

    private (string SecretFile, string Dir) Prepare(CreatedDevice device) => _agent.Prepare(device);

    private Task<AgentRun> RunAgentAsync(CreatedDevice device, string secretFile, string dir, string[] arguments, string? server = null, string? path = null)
        => _agent.RunAsync(server ?? _server, device, secretFile, dir, arguments, path);

    /// <summary>Whether the secret works: the device's addresses, sent again as they are.</summary>
    private async Task<HttpResponseMessage> AuthenticateAsync(string deviceId, string secret, params string[] addresses)
    {
        using var client = _host.Device();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/addresses") { Content = JsonContent.Create(new { deviceId, addresses }) };
        request.Headers.Add("X-Device-Secret", secret);
        return await client.SendAsync(request);
    }
}
