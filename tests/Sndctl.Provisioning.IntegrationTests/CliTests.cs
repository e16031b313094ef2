using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary><c>sndctl-ca</c> run as a process against the reference host over loopback.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // File modes are checked.
public sealed class CliTests : IAsyncLifetime
{
    private readonly List<ProvisioningHostFactory> _hosts = [];
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-cli-").FullName;

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
    public async Task Webhooks_writes_a_verified_certificate_0600_and_its_local_key_0400()
    {
        var (_, server) = StartHost();

        var (code, output, error) = await CliAsync("webhooks", "--server", server, "--out", "hook.crt", "--keyout", "hook.key", "192.168.1.10");

        Assert.True(code == 0, output + error);
        Assert.Contains("Certificate for 192.168.1.10 written to hook.crt", output, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_work, "hook.crt")));
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(Path.Combine(_work, "hook.key")));
        using var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(_work, "hook.crt"), Path.Combine(_work, "hook.key"));
        Assert.True(certificate.HasPrivateKey); // The key written is the certificate's.
        // The address in the subjectAltName alone (critical then), no CN: the CA excludes every DNS name.
        Assert.Equal(string.Empty, certificate.Subject);
        var san = Assert.Single(certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>());
        Assert.True(san.Critical);
        Assert.Equal([System.Net.IPAddress.Parse("192.168.1.10")], san.EnumerateIPAddresses());
        Assert.Contains("Webhook CA", certificate.Issuer, StringComparison.Ordinal);

        Assert.Equal(0, (await CliAsync("root", "--server", server, "--out", "ca.crt")).ExitCode);
        var chain = File.ReadAllText(Path.Combine(_work, "hook.crt"));
        await File.WriteAllTextAsync(Path.Combine(_work, "intermediate.pem"), chain[(chain.IndexOf("-----END CERTIFICATE-----", StringComparison.Ordinal) + 25)..].Trim() + "\n");
        Assert.Contains("hook.crt: OK", await ProcessRunner.OpenSslAsync(_work, "verify", "-CAfile", "ca.crt", "-untrusted", "intermediate.pem", "hook.crt"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Private_uses_the_private_server_intermediate_and_the_server_variable_and_status_reads_it_back()
    {
        var (_, server) = StartHost();

        var (code, output, error) = await CliAsync(["private", "10.0.0.5"], new Dictionary<string, string?> { ["SNDCTL_CA_SERVER"] = server });

        Assert.True(code == 0, output + error);
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(_work, "server.crt")));
        Assert.Contains("Private Server CA", certificate.Issuer, StringComparison.Ordinal);
        var id = System.Text.RegularExpressions.Regex.Match(output, "Request (csr_[0-9a-f]+)").Groups[1].Value;
        var status = await CliAsync("status", "--server", server, id, "--out", "again.crt");
        Assert.Equal(0, status.ExitCode);
        Assert.Contains($"{id}: approved.", status.Output, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(_work, "server.crt")), File.ReadAllText(Path.Combine(_work, "again.crt")));
    }

    [Fact]
    public async Task A_second_request_within_a_minute_is_rate_limited_with_exit_code_3()
    {
        var (_, server) = StartHost(new() { ["Provisioning:PrivateCa:PostsPerMinute"] = "1" });
        Assert.Equal(0, (await CliAsync("webhooks", "--server", server, "192.168.1.20")).ExitCode);

        var (code, _, error) = await CliAsync("webhooks", "--server", server, "--out", "b.crt", "--keyout", "b.key", "192.168.1.21");

        Assert.Equal(3, code);
        Assert.Contains("Rate limited: the CA accepts one request per minute from your address. Try again in", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_work, "b.key")));
    }

    [Fact]
    public async Task Manual_approval_is_waited_for_and_a_denial_ends_with_the_reason_and_exit_code_2()
    {
        var (host, server) = StartHost(new() { ["Provisioning:PrivateCa:Approval"] = "Manual" });
        using var admin = host.Admin();

        var approved = CliAsync("private", "--server", server, "--out", "ok.crt", "--keyout", "ok.key", "172.16.0.10");
        await DecideNextPendingAsync(admin, id => admin.PostAsync($"/api/admin/csr/{id}/approve", null));
        var result = await approved;
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        Assert.True(File.Exists(Path.Combine(_work, "ok.crt")));

        var denied = CliAsync("private", "--server", server, "--out", "no.crt", "--keyout", "no.key", "172.16.0.11");
        await DecideNextPendingAsync(admin, id => admin.PostAsJsonAsync($"/api/admin/csr/{id}/deny", new { reason = "unknown subnet" }));
        result = await denied;
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Denied: Denied by an administrator: unknown subnet", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_work, "no.key")));
    }

    [Fact]
    public async Task Waiting_past_the_timeout_keeps_the_key_and_says_how_to_fetch_the_certificate_later()
    {
        var (_, server) = StartHost(new() { ["Provisioning:PrivateCa:Approval"] = "Manual" });

        var (code, _, error) = await CliAsync("webhooks", "--server", server, "--timeout", "1s", "192.168.50.1");

        Assert.Equal(4, code);
        Assert.Matches("Timed out after 1 s waiting for an administrator to approve csr_[0-9a-f]+", error);
        Assert.Contains("sndctl-ca status csr_", error, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(Path.Combine(_work, "server.key")));
    }

    [Fact]
    public async Task Bad_input_and_an_unreachable_CA_have_their_own_messages_and_exit_codes()
    {
        var publicIp = await CliAsync("webhooks", "--server", "http://127.0.0.1:9/", "8.8.8.8");
        Assert.Equal(1, publicIp.ExitCode);
        Assert.Contains("8.8.8.8 is not a private address", publicIp.Error, StringComparison.Ordinal);

        var notIp = await CliAsync("webhooks", "--server", "http://127.0.0.1:9/", "printer.local");
        Assert.Equal(1, notIp.ExitCode);

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var unreachable = await CliAsync("webhooks", "--server", $"http://127.0.0.1:{closedPort}/", "192.168.1.10");
        Assert.Equal(5, unreachable.ExitCode);
        Assert.Contains($"Cannot reach the CA at http://127.0.0.1:{closedPort}/", unreachable.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_work, "server.key")));

        var (_, server) = StartHost();
        var unknown = await CliAsync("status", "--server", server, "csr_unknown");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("No CSR request 'csr_unknown'", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_root_is_trusted_by_its_fingerprint_and_a_wrong_one_stops_everything()
    {
        var (_, server) = StartHost(new() { ["Provisioning:PrivateCa:PostsPerMinute"] = "10" });
        var first = await CliAsync("root", "--server", server, "--out", "first.crt");
        Assert.Equal(0, first.ExitCode);
        var fingerprint = System.Text.RegularExpressions.Regex.Match(first.Output, "SHA-256 ([0-9A-F:]{95})").Groups[1].Value;
        Assert.Contains("compare it with the one your CA's operator publishes", first.Output, StringComparison.Ordinal);
        using (var root = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(_work, "first.crt"))))
        {
            Assert.Equal(root.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256), fingerprint.Replace(":", string.Empty, StringComparison.Ordinal));
        }

        var pinned = await CliAsync("root", "--server", server, "--fingerprint", fingerprint.ToLowerInvariant(), "--out", "pinned.crt");
        Assert.True(pinned.ExitCode == 0, pinned.Output + pinned.Error);
        Assert.Contains("matches the pinned fingerprint", pinned.Output, StringComparison.Ordinal);

        var wrong = new string('A', 64);
        var refused = await CliAsync("webhooks", "--server", server, "--fingerprint", wrong, "--out", "w.crt", "--keyout", "w.key", "192.168.1.30");
        Assert.Equal(5, refused.ExitCode);
        Assert.Contains("not the CA you meant", refused.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_work, "w.key")));
        Assert.False(File.Exists(Path.Combine(_work, "w.crt")));

        var issued = await CliAsync("webhooks", "--server", server, "--fingerprint", fingerprint, "--out", "p.crt", "--keyout", "p.key", "192.168.1.31");
        Assert.True(issued.ExitCode == 0, issued.Output + issued.Error);
        var withRootFile = await CliAsync("private", "--server", server, "--root", "first.crt", "--out", "r.crt", "--keyout", "r.key", "10.1.1.1");
        Assert.True(withRootFile.ExitCode == 0, withRootFile.Output + withRootFile.Error);

        // Plain HTTP to another machine without a pin is refused before anything is sent.
        var plain = await CliAsync("webhooks", "--server", "http://192.0.2.10:5080/", "--out", "x.crt", "--keyout", "x.key", "192.168.1.32");
        Assert.Equal(1, plain.ExitCode);
        Assert.Contains("plain HTTP", plain.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Existing_files_are_replaced_only_with_force_and_json_output_is_one_object()
    {
        var (_, server) = StartHost(new() { ["Provisioning:PrivateCa:PostsPerMinute"] = "10" });
        await File.WriteAllTextAsync(Path.Combine(_work, "server.key"), "an operator's key\n");

        var refused = await CliAsync("webhooks", "--server", server, "192.168.1.40");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("server.key exists; nothing was changed. Add --force", refused.Error, StringComparison.Ordinal);
        Assert.Equal("an operator's key\n", await File.ReadAllTextAsync(Path.Combine(_work, "server.key")));
        Assert.False(File.Exists(Path.Combine(_work, "server.crt")));

        var forced = await CliAsync("webhooks", "--server", server, "--force", "--json", "192.168.1.40");
        Assert.True(forced.ExitCode == 0, forced.Output + forced.Error);
        var result = JsonDocument.Parse(forced.Output).RootElement;
        Assert.Equal("issued", result.GetProperty("status").GetString());
        Assert.Equal("192.168.1.40", result.GetProperty("ip").GetString());
        Assert.Equal(0, result.GetProperty("exitCode").GetInt32());
        Assert.True(result.GetProperty("notAfter").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddDays(300));
        using var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(_work, "server.crt"), Path.Combine(_work, "server.key"));
        Assert.True(certificate.HasPrivateKey);

        var error = await CliAsync("webhooks", "--server", server, "--json", "8.8.8.8");
        Assert.Equal(1, error.ExitCode);
        Assert.Equal("error", JsonDocument.Parse(error.Output).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Renew_replaces_a_certificate_due_within_before_and_runs_exec_and_does_nothing_before()
    {
        var (_, server) = StartHost(new() { ["Provisioning:PrivateCa:PostsPerMinute"] = "10" });
        Assert.Equal(0, (await CliAsync("webhooks", "--server", server, "--out", "hook.crt", "--keyout", "hook.key", "192.168.1.50")).ExitCode);
        using var before = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(_work, "hook.crt")));
        var keyBefore = await File.ReadAllTextAsync(Path.Combine(_work, "hook.key"));

        var notDue = await CliAsync("renew", "--server", server, "--cert", "hook.crt", "--key", "hook.key", "--before", "30d", "--exec", "touch not-reloaded");
        Assert.True(notDue.ExitCode == 0, notDue.Output + notDue.Error);
        Assert.Contains("Nothing done", notDue.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_work, "not-reloaded")));

        // A year-long certificate is due "within 400 days": renewed, the new pair in place, then the command.
        var renewed = await CliAsync("renew", "--server", server, "--cert", "hook.crt", "--key", "hook.key", "--before", "400d", "--exec", "echo \"$SNDCTL_CA_CERT\" > reloaded");
        Assert.True(renewed.ExitCode == 0, renewed.Output + renewed.Error);
        using var after = X509Certificate2.CreateFromPemFile(Path.Combine(_work, "hook.crt"), Path.Combine(_work, "hook.key"));
        Assert.True(after.HasPrivateKey); // the new key is the new certificate's
        Assert.NotEqual(before.SerialNumber, after.SerialNumber);
        Assert.NotEqual(keyBefore, await File.ReadAllTextAsync(Path.Combine(_work, "hook.key")));
        Assert.Equal([System.Net.IPAddress.Parse("192.168.1.50")], after.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateIPAddresses());
        Assert.Contains("Webhook CA", after.Issuer, StringComparison.Ordinal);
        Assert.Equal(Path.Combine(_work, "hook.crt"), (await File.ReadAllTextAsync(Path.Combine(_work, "reloaded"))).Trim());
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(Path.Combine(_work, "hook.key")));
        Assert.False(File.Exists(Path.Combine(_work, "hook.key.next")));
    }

    [Fact]
    public async Task The_self_contained_binary_runs_the_seed_command_with_fingerprint_trust()
    {
        var binary = Environment.GetEnvironmentVariable("SNDCTL_TEST_CLI_BINARY");
        if (string.IsNullOrEmpty(binary))
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "SNDCTL_TEST_CLI_BINARY is not set: tests/run.sh builds it with release.sh.");
            Assert.Skip("SNDCTL_TEST_CLI_BINARY is not set; tests/run.sh builds the linux-x64 binary with release.sh.");
        }

        var (_, server) = StartHost(new() { ["Provisioning:PrivateCa:PostsPerMinute"] = "10" });
        var root = await ProcessRunner.RunAsync(binary, ["root", "--server", server, "--out", "-"], _work);
        Assert.Equal(0, root.ExitCode);
        await File.WriteAllTextAsync(Path.Combine(_work, "root.pem"), root.Output);
        using var rootCertificate = X509Certificate2.CreateFromPem(root.Output);
        var fingerprint = rootCertificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256);

        var seed = await ProcessRunner.RunAsync(binary, ["webhooks", "--server", server, "--fingerprint", fingerprint, "--out=server.crt", "--keyout=server.key", "192.168.1.10"], _work);
        Assert.True(seed.ExitCode == 0, seed.Output + seed.Error);
        Assert.Contains("hook", (await ProcessRunner.OpenSslAsync(_work, "x509", "-in", "server.crt", "-noout", "-issuer")).ToLowerInvariant(), StringComparison.Ordinal);
        var again = await ProcessRunner.RunAsync(binary, ["webhooks", "--server", server, "--fingerprint", fingerprint, "--out=server.crt", "--keyout=server.key", "192.168.1.10"], _work);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_reads_like_the_how_to_use_guide()
    {
        var (code, output, _) = await CliAsync("--help");

        Assert.Equal(0, code);
        Assert.Contains("sndctl-ca webhooks --out=server.crt --keyout=server.key 192.168.1.10", output, StringComparison.Ordinal);
        Assert.Contains("sndctl-ca private 10.0.0.5", output, StringComparison.Ordinal);
        Assert.Contains("ssl_certificate_key", output, StringComparison.Ordinal);
        Assert.Contains("Exit codes", output, StringComparison.Ordinal);
    }

    private (ProvisioningHostFactory Host, string BaseUrl) StartHost(Dictionary<string, string?>? settings = null)
    {
        var started = ProvisioningHostFactory.StartForCsr(settings);
        _hosts.Add(started.Host);
        return started;
    }

    private static async Task DecideNextPendingAsync(HttpClient admin, Func<string, Task<HttpResponseMessage>> decide)
    {
        for (var i = 0; i < 200; i++)
        {
            var pending = await admin.GetFromJsonAsync<JsonElement>("/api/admin/csr?status=pending");
            if (pending.GetProperty("items").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } item)
            {
                using var response = await decide(item.GetProperty("requestId").GetString()!);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("The CLI's request never appeared.");
    }

    private Task<(int ExitCode, string Output, string Error)> CliAsync(params string[] arguments) => CliAsync(arguments, null);

    private Task<(int ExitCode, string Output, string Error)> CliAsync(string[] arguments, IDictionary<string, string?>? environment)
        => ProcessRunner.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "sndctl-ca.dll"), .. arguments], _work, environment);
}
