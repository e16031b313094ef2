using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>The private-IP CSR service through the reference host over HTTP, checked with openssl.</summary>
public sealed class PrivateCsrTests : IAsyncLifetime
{
    private const string SeedConfig = """
        [req]
        distinguished_name = req_distinguished_name
        x509_extensions = v3_req
        prompt = no

        [req_distinguished_name]
        CN = 192.168.1.10

        [v3_req]
        keyUsage = nonRepudiation, digitalSignature, keyEncipherment
        extendedKeyUsage = serverAuth
        subjectAltName = @alt_names

        [alt_names]
        IP.0 = 192.168.1.10
        """;

    private readonly List<ProvisioningHostFactory> _hosts = [];
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-csr-").FullName;

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

    [Theory]
    [InlineData("-extensions")] // The seed's command as written: openssl puts no extensions in the CSR; the CN is the address.
    [InlineData("-reqexts")] // The same config with the extensions in the CSR.
    public async Task A_CSR_made_as_in_the_seed_gives_a_certificate_that_openssl_verifies_and_serves_TLS_with(string extensionsOption)
    {
        var host = StartHost();
        using var client = host.Device();
        await File.WriteAllTextAsync(Path.Combine(_work, "server.cnf"), SeedConfig);
        await ProcessRunner.OpenSslAsync(_work, "genrsa", "-out", "server.key", "2048");
        await ProcessRunner.OpenSslAsync(_work, "req", "-new", "-key", "server.key", "-out", "server.csr", extensionsOption, "v3_req", "-config", "./server.cnf");

        var submitted = await client.PostAsJsonAsync("/api/v1/csr", new { content = await File.ReadAllTextAsync(Path.Combine(_work, "server.csr")) });

        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var body = await submitted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("approved", body.GetProperty("status").GetString());
        var id = body.GetProperty("request_id").GetString()!;
        var status = await client.GetFromJsonAsync<JsonElement>($"/api/v1/csr/{id}");
        Assert.Equal(id, status.GetProperty("request_id").GetString());
        var chain = status.GetProperty("certificate").GetString()!;
        var pems = chain.Split("-----END CERTIFICATE-----", StringSplitOptions.RemoveEmptyEntries).Where(p => p.Contains("BEGIN", StringComparison.Ordinal)).Select(p => p.Trim() + "\n-----END CERTIFICATE-----\n").ToList();
        Assert.Equal(2, pems.Count); // The leaf, then its intermediate.
        await File.WriteAllTextAsync(Path.Combine(_work, "server.crt"), chain);
        await File.WriteAllTextAsync(Path.Combine(_work, "leaf.pem"), pems[0]);
        await File.WriteAllTextAsync(Path.Combine(_work, "intermediate.pem"), pems[1]);
        await File.WriteAllTextAsync(Path.Combine(_work, "ca.crt"), await client.GetStringAsync("/api/v1/ca/root.pem"));

        Assert.Contains("leaf.pem: OK", await ProcessRunner.OpenSslAsync(_work, "verify", "-CAfile", "ca.crt", "-untrusted", "intermediate.pem", "-purpose", "sslserver", "leaf.pem"), StringComparison.Ordinal);
        var text = await ProcessRunner.OpenSslAsync(_work, "x509", "-in", "leaf.pem", "-noout", "-text");
        Assert.Contains("IP Address:192.168.1.10", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Subject: CN", text, StringComparison.Ordinal); // the address is in the SAN alone
        Assert.Contains("X509v3 Subject Alternative Name: critical", text, StringComparison.Ordinal);
        Assert.Contains("TLS Web Server Authentication", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Non Repudiation", text, StringComparison.Ordinal); // Requested usages are not copied.
        Assert.Contains("CA:FALSE", text, StringComparison.Ordinal);
        Assert.Contains("/api/v1/ca/crl/webhook.crl", text, StringComparison.Ordinal);
        var intermediate = await ProcessRunner.OpenSslAsync(_work, "x509", "-in", "intermediate.pem", "-noout", "-text");
        Assert.Contains("IP:192.168.0.0/255.255.0.0", intermediate, StringComparison.Ordinal);
        Assert.Matches(@"Excluded:\s+DNS:\s", intermediate); // every DNS name excluded: a stolen CSR-CA key signs no host name

        // nginx-style files: server.crt (leaf + intermediate) and server.key, served by openssl s_server;
        // an openssl client that trusts only the root completes the handshake and checks the IP.
        var port = Ports.Free();
        using var server = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("openssl", ["s_server", "-accept", $"127.0.0.1:{port}", "-cert", "server.crt", "-key", "server.key", "-cert_chain", "intermediate.pem"])
        {
            WorkingDirectory = _work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        })!;
        try
        {
            // s_server prints ACCEPT once it listens (probing the port would use up a connection).
            while (await server.StandardOutput.ReadLineAsync() is { } line && !line.Contains("ACCEPT", StringComparison.Ordinal))
            {
            }

            var (code, output, error) = await ProcessRunner.RunAsync(
                "openssl",
                ["s_client", "-connect", $"127.0.0.1:{port}", "-CAfile", "ca.crt", "-verify_return_error", "-verify_ip", "192.168.1.10", "-brief"],
                _work,
                input: "Q\n");
            Assert.True(code == 0, output + error);
            Assert.Contains("Verification: OK", output + error, StringComparison.Ordinal);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task The_second_POST_within_a_minute_from_one_address_gets_429_and_is_not_stored_while_status_is_not_limited()
    {
        var host = StartHost(new() { ["Provisioning:PrivateCa:PostsPerMinute"] = null });
        using var client = host.Device();
        using var admin = host.Admin();
        var first = await client.PostAsJsonAsync("/api/v1/csr", new { content = Csr("192.168.1.20") });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var id = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("request_id").GetString();

        var second = await client.PostAsJsonAsync("/api/v1/csr", new { content = Csr("192.168.1.21"), type = "private_server" });

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        Assert.InRange(second.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 55, 60);
        Assert.Equal(1, (await admin.GetFromJsonAsync<JsonElement>("/api/admin/csr")).GetProperty("total").GetInt32());
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/csr/{id}")).StatusCode);
        }

        host.Time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/v1/csr", new { content = Csr("192.168.1.22") })).StatusCode);
    }

    [Fact]
    public async Task Forwarded_for_counts_only_from_configured_proxies()
    {
        var direct = StartHost(new() { ["Provisioning:PrivateCa:PostsPerMinute"] = null });
        using (var client = direct.Device())
        {
            Assert.Equal(HttpStatusCode.Accepted, (await PostFromAsync(client, "203.0.113.1", "10.0.0.1")).StatusCode);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await PostFromAsync(client, "203.0.113.2", "10.0.0.2")).StatusCode); // Spoofed header ignored.
        }

        var proxied = StartHost(new() { ["Provisioning:PrivateCa:PostsPerMinute"] = null, ["Provisioning:Http:KnownProxies:0"] = "127.0.0.1" });
        using (var client = proxied.Device())
        {
            Assert.Equal(HttpStatusCode.Accepted, (await PostFromAsync(client, "203.0.113.1", "10.0.0.1")).StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await PostFromAsync(client, "203.0.113.2", "10.0.0.2")).StatusCode);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await PostFromAsync(client, "203.0.113.1", "10.0.0.3")).StatusCode);
            using var admin = proxied.Admin();
            var items = (await admin.GetFromJsonAsync<JsonElement>("/api/admin/csr")).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("clientAddress").GetString()).Order();
            Assert.Equal(["203.0.113.1", "203.0.113.2"], items);
        }
    }

    [Fact]
    public async Task The_open_CSR_service_cannot_fill_the_disk_extensions_repeats_and_refused_posts_cost_no_row()
    {
        var host = StartHost(new() { ["Provisioning:PrivateCa:PostsPerMinute"] = "2" });
        using var client = host.Device();
        var database = Path.Combine(host.DataDirectory, "provisioning.db");

        // A CSR asking for an extension the policy does not issue (10 KB of it) is denied, and its text is not kept.
        var bloated = await SubmitAsync(client, Csr("192.168.7.1", new System.Security.Cryptography.X509Certificates.X509Extension("1.3.6.1.4.1.99999.1", new byte[10_000], false)));
        Assert.Equal("denied", bloated.GetProperty("status").GetString());
        Assert.Contains("1.3.6.1.4.1.99999.1", bloated.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal([null], await ScalarsAsync(database, $"SELECT CsrPem FROM ProvisioningCsrRequests WHERE Id = '{Id(bloated)}'"));

        // The same CSR again is its request again: no new row, no permit spent.
        var csr = Csr("192.168.7.2");
        var first = await SubmitAsync(client, csr);
        var again = await SubmitAsync(client, csr);
        Assert.Equal(Id(first), Id(again));
        Assert.Equal(first.GetProperty("certificate").GetString(), again.GetProperty("certificate").GetString());
        Assert.Equal(["2"], await ScalarsAsync(database, "SELECT COUNT(*) FROM ProvisioningCsrRequests"));

        // Over the limit: 429, and the database is not written (its data_version does not move for a reader).
        var refused = await client.PostAsJsonAsync("/api/v1/csr", new { content = Csr("192.168.7.3") });
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        await using var reader = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=false");
        await reader.OpenAsync(TestContext.Current.CancellationToken);
        await using var version = reader.CreateCommand();
        version.CommandText = "PRAGMA data_version";
        var before = (long)(await version.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PostAsJsonAsync("/api/v1/csr", new { content = Csr("192.168.7.4") })).StatusCode);
        }

        Assert.Equal(before, (long)(await version.ExecuteScalarAsync(TestContext.Current.CancellationToken))!);
        Assert.Equal(["2"], await ScalarsAsync(database, "SELECT COUNT(*) FROM ProvisioningCsrRequests"));
    }

    [Fact]
    public async Task One_network_cannot_spread_its_posts_over_many_addresses()
    {
        var host = StartHost(new()
        {
            ["Provisioning:PrivateCa:PostsPerMinute"] = null,
            ["Provisioning:PrivateCa:NetworkPostsPerMinute"] = null,
            ["Provisioning:Http:KnownProxies:0"] = "127.0.0.1",
        });
        using var client = host.Device();

        // Ten addresses of one /24 get one post each (the default 10 per network per minute); the eleventh is refused.
        for (var i = 1; i <= 10; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await PostFromAsync(client, $"203.0.113.{i}", $"10.1.0.{i}")).StatusCode);
        }

        var refused = await PostFromAsync(client, "203.0.113.200", "10.1.0.200");
        var problem = await HttpAssert.ProblemAsync(refused, 429);
        Assert.Contains("/24", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(refused.Headers.RetryAfter);

        // The same for the /64s of one IPv6 /48; other networks are not affected.
        for (var i = 1; i <= 10; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await PostFromAsync(client, $"2001:db8:1:{i:x}::1", $"10.2.0.{i}")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await PostFromAsync(client, "2001:db8:1:ff::1", "10.2.0.200")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostFromAsync(client, "198.51.100.1", "10.3.0.1")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostFromAsync(client, "2001:db8:2::1", "10.3.0.2")).StatusCode);
    }

    [Fact]
    public async Task Policy_denials_are_stored_with_the_reason_and_bad_input_is_a_400_that_stores_nothing()
    {
        var host = StartHost();
        using var client = host.Device();
        using var admin = host.Admin();

        var denied = await client.PostAsJsonAsync("/api/v1/csr", new { content = Csr("8.8.8.8") });
        Assert.Equal(HttpStatusCode.Accepted, denied.StatusCode);
        var body = await denied.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("denied", body.GetProperty("status").GetString());
        Assert.Contains("8.8.8.8 is not a private IPv4 address", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(body.TryGetProperty("certificate", out _));

        string[] bad =
        [
            "not json",
            "[]",
            "{}",
            """{"content": 42}""",
            """{"content": "hello"}""",
            JsonSerializer.Serialize(new { content = Csr("10.0.0.9"), type = "server" }),
            JsonSerializer.Serialize(new { content = new string('A', 16_385) }),
            JsonSerializer.Serialize(new { content = Csr("10.0.0.9"), metadata = new Dictionary<string, string> { [new string('k', 65)] = "v" } }),
            JsonSerializer.Serialize(new { content = Csr("10.0.0.9"), metadata = new Dictionary<string, string> { ["k"] = new string('v', 257) } }),
            JsonSerializer.Serialize(new { content = Csr("10.0.0.9"), metadata = new { k = 1 } }),
        ];
        foreach (var json in bad)
        {
            var response = await client.PostAsync("/api/v1/csr", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{json[..Math.Min(60, json.Length)]}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PostAsync("/api/v1/csr", new StringContent("content=x", System.Text.Encoding.UTF8, "text/plain"))).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.PostAsync("/api/v1/csr", new StringContent(JsonSerializer.Serialize(new { content = new string('A', 70_000) }), System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/csr/csr_doesnotexist")).StatusCode);
        Assert.Equal(1, (await admin.GetFromJsonAsync<JsonElement>("/api/admin/csr")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Manual_approval_waits_for_an_admin_who_approves_or_denies_with_a_reason()
    {
        var host = StartHost(new() { ["Provisioning:PrivateCa:Approval"] = "Manual" });
        using var client = host.Device();
        using var admin = host.Admin();
        var first = await SubmitAsync(client, Csr("172.16.5.5"), "private_server");
        var second = await SubmitAsync(client, Csr("172.16.5.6"));
        Assert.Equal("pending", first.GetProperty("status").GetString());
        Assert.False(first.TryGetProperty("certificate", out _));

        var pending = await admin.GetFromJsonAsync<JsonElement>("/api/admin/csr?status=pending");
        Assert.Equal(2, pending.GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync($"/api/admin/csr/{Id(first)}/approve", null)).StatusCode);

        var approved = await admin.PostAsync($"/api/admin/csr/{Id(first)}/approve", null);
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        var status = await client.GetFromJsonAsync<JsonElement>($"/api/v1/csr/{Id(first)}");
        Assert.Equal("approved", status.GetProperty("status").GetString());
        Assert.Contains("BEGIN CERTIFICATE", status.GetProperty("certificate").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsync($"/api/admin/csr/{Id(second)}/deny", null)).StatusCode);
        var deny = await admin.PostAsJsonAsync($"/api/admin/csr/{Id(second)}/deny", new { reason = "not one of our subnets" });
        Assert.Equal(HttpStatusCode.OK, deny.StatusCode);
        status = await client.GetFromJsonAsync<JsonElement>($"/api/v1/csr/{Id(second)}");
        Assert.Equal("denied", status.GetProperty("status").GetString());
        Assert.Equal("Denied by an administrator: not one of our subnets", status.GetProperty("message").GetString());

        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/admin/csr/{Id(first)}/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync($"/api/admin/csr/{Id(first)}/deny", new { reason = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/api/admin/csr/csr_nope/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/admin/csr?status=maybe")).StatusCode);
        var events = await admin.GetFromJsonAsync<JsonElement>("/api/admin/events");
        Assert.Contains(events.GetProperty("items").EnumerateArray(), e => e.GetProperty("type").GetString() == "csr.approved");
        Assert.Contains(events.GetProperty("items").EnumerateArray(), e => e.GetProperty("type").GetString() == "csr.denied");
    }

    [Fact]
    public async Task Revoking_puts_the_serial_on_its_intermediates_CRL_and_openssl_then_refuses_the_certificate()
    {
        var host = StartHost();
        using var client = host.Device();
        using var admin = host.Admin();
        var request = await SubmitAsync(client, Csr("10.20.30.40"), "private_server");
        var other = await SubmitAsync(client, Csr("10.20.30.41"));
        var chain = request.GetProperty("certificate").GetString()!;
        await File.WriteAllTextAsync(Path.Combine(_work, "leaf.pem"), chain[..(chain.IndexOf("-----END CERTIFICATE-----", StringComparison.Ordinal) + 25)] + "\n");
        await File.WriteAllTextAsync(Path.Combine(_work, "chain.pem"), chain);
        await File.WriteAllTextAsync(Path.Combine(_work, "ca.crt"), await client.GetStringAsync("/api/v1/ca/root.pem"));
        Assert.NotEqual(Issuer(chain), Issuer(other.GetProperty("certificate").GetString()!)); // Each type has its own intermediate.

        var revoke = await admin.PostAsync($"/api/admin/csr/{Id(request)}/revoke", null);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/admin/csr/{Id(request)}/revoke", null)).StatusCode);

        var crl = await client.GetAsync("/api/v1/ca/crl/private_server.crl");
        Assert.Equal("application/pkix-crl", crl.Content.Headers.ContentType?.MediaType);
        await File.WriteAllBytesAsync(Path.Combine(_work, "crl.der"), await crl.Content.ReadAsByteArrayAsync());
        var serial = (await admin.GetFromJsonAsync<JsonElement>("/api/admin/csr?status=approved")).GetProperty("items").EnumerateArray()
            .Single(i => i.GetProperty("requestId").GetString() == Id(request)).GetProperty("serialNumber").GetString()!;
        var crlText = await ProcessRunner.OpenSslAsync(_work, "crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text");
        Assert.Contains("Serial Number: " + serial, crlText, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Private Server CA", crlText, StringComparison.Ordinal);
        await ProcessRunner.OpenSslAsync(_work, "crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem");
        var (code, output, error) = await ProcessRunner.RunAsync("openssl", ["verify", "-crl_check", "-CAfile", "ca.crt", "-untrusted", "chain.pem", "-CRLfile", "crl.pem", "leaf.pem"], _work);
        Assert.NotEqual(0, code);
        Assert.Contains("certificate revoked", output + error, StringComparison.Ordinal);

        var webhookCrl = await client.GetByteArrayAsync("/api/v1/ca/crl/webhook.crl");
        await File.WriteAllBytesAsync(Path.Combine(_work, "webhook.der"), webhookCrl);
        Assert.DoesNotContain("Serial Number", await ProcessRunner.OpenSslAsync(_work, "crl", "-inform", "DER", "-in", "webhook.der", "-noout", "-text"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/ca/crl/root.crl")).StatusCode);
    }

    [Fact]
    public async Task Requests_survive_a_restart()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "sndctl-it-" + Guid.NewGuid().ToString("N"));
        var first = StartHost(dataDirectory: dataDirectory);
        string id, certificate;
        using (var client = first.Device())
        {
            var body = await SubmitAsync(client, Csr("192.168.7.7"));
            id = Id(body);
            certificate = body.GetProperty("certificate").GetString()!;
        }

        await first.DisposeAsync();
        _hosts.Remove(first);
        var second = StartHost(dataDirectory: dataDirectory);
        using var again = second.Device();
        var status = await again.GetFromJsonAsync<JsonElement>($"/api/v1/csr/{id}");
        Assert.Equal(certificate, status.GetProperty("certificate").GetString());
    }

    private ProvisioningHostFactory StartHost(Dictionary<string, string?>? settings = null, string? dataDirectory = null)
    {
        var host = ProvisioningHostFactory.StartForCsr(settings, dataDirectory).Host;
        _hosts.Add(host);
        return host;
    }

    private static async Task<JsonElement> SubmitAsync(HttpClient client, string csr, string? type = null)
    {
        var response = await client.PostAsJsonAsync("/api/v1/csr", new { content = csr, type });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Task<HttpResponseMessage> PostFromAsync(HttpClient client, string forwardedFor, string ip)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/csr") { Content = JsonContent.Create(new { content = Csr(ip) }) };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return client.SendAsync(request);
    }

    private static string Id(JsonElement body) => body.GetProperty("request_id").GetString()!;

    private static string Issuer(string chain)
    {
        using var leaf = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(chain);
        return leaf.Issuer;
    }

    internal static string Csr(string ip, params System.Security.Cryptography.X509Certificates.X509Extension[] extra)
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=" + ip, key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Parse(ip));
        request.CertificateExtensions.Add(san.Build());
        foreach (var extension in extra)
        {
            request.CertificateExtensions.Add(extension);
        }

        return request.CreateSigningRequestPem();
    }

    /// <summary>The first column of every row a query of the host's SQLite file returns, as text (null for NULL).</summary>
    private static async Task<List<string?>> ScalarsAsync(string database, string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string?>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.IsDBNull(0) ? null : Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture));
        }

        return values;
    }
}
