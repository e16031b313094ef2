using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The second round of attacks, played against the reference host over real HTTP on loopback: what an outsider,
/// a device holder and an operator following the docs would try on the surfaces added since the first round
/// (device addresses, reserved names, health, request bodies). Each fails without its fix.
/// </summary>
public sealed class HostileInternetTests : IAsyncLifetime
{
    private readonly List<ProvisioningHostFactory> _hosts = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
            host.DeleteData();
        }
    }

    [Theory]
    [InlineData("fd00:ec2::254")] // AWS instance metadata (IPv6), inside fc00::/7
    [InlineData("fd20:ce::254")] // GCP metadata (IPv6)
    [InlineData("169.254.169.254")] // AWS, Azure, GCP, Oracle metadata
    [InlineData("100.100.100.200")] // Alibaba metadata
    [InlineData("168.63.129.16")] // Azure wire server (public!)
    [InlineData("64:ff9b::a9fe:a9fe")] // NAT64 of 169.254.169.254
    [InlineData("64:ff9b:1::1")] // local-use NAT64
    [InlineData("2002:a9fe:a9fe::1")] // 6to4
    [InlineData("2001:0:4136:e378::1")] // Teredo
    [InlineData("100.64.0.1")] // shared (carrier-grade NAT) space
    public async Task Device_addresses_never_point_at_metadata_or_transition_ranges_even_when_public_ones_are_allowed(string address)
    {
        var host = Start(new() { ["Provisioning:Addresses:AllowPublic"] = "true" });
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        var register = await client.SendAsync(ProvisioningHostFactory.Post("/api/register", device.Secret, new { deviceId = device.DeviceId, addresses = new[] { address } }));
        await HttpAssert.ProblemAsync(register, 400);
        var update = await client.SendAsync(ProvisioningHostFactory.Post("/api/addresses", device.Secret, new { deviceId = device.DeviceId, addresses = new[] { address } }));
        await HttpAssert.ProblemAsync(update, 400);

        // A real public address is what AllowPublic allows.
        var ok = await client.SendAsync(ProvisioningHostFactory.Post("/api/addresses", device.Secret, new { deviceId = device.DeviceId, addresses = new[] { "8.8.8.8" } }));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Device_IDs_the_zone_uses_itself_are_refused_and_a_configured_list_replaces_the_defaults()
    {
        var host = Start();
        using var admin = host.Admin();
        foreach (var reserved in (string[])["ns", "ns1", "ns9", "www", "mail", "api", "admin"])
        {
            var problem = await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/admin/devices", new { deviceId = reserved }), 400);
            Assert.Contains("reserved", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/admin/devices", new { deviceId = "ns10" })).StatusCode);

        var custom = Start(new() { ["Provisioning:ReservedDeviceIds:0"] = "gateway" });
        using var customAdmin = custom.Admin();
        await HttpAssert.ProblemAsync(await customAdmin.PostAsJsonAsync("/api/admin/devices", new { deviceId = "gateway" }), 400);
        Assert.Equal(HttpStatusCode.Created, (await customAdmin.PostAsJsonAsync("/api/admin/devices", new { deviceId = "www" })).StatusCode);
    }

    [Fact]
    public async Task A_flood_of_anonymous_health_requests_makes_at_most_one_DNS_provider_check_per_interval()
    {
        await using var cloudflare = await FakeCloudflare.StartAsync();
        cloudflare.AddZone("devices.example.com");
        var host = Start(new()
        {
            ["Provisioning:BaseDomain"] = "devices.example.com",
            ["Provisioning:Dns:Provider"] = "Cloudflare",
            ["Provisioning:Dns:Cloudflare:ApiToken"] = "revoked-token-0123456789",
            ["Provisioning:Dns:Cloudflare:BaseUrl"] = cloudflare.BaseUrl.AbsoluteUri,
        });
        using var client = host.Device();
        int Checks() => cloudflare.Requests.Count(r => r.Path.EndsWith("/user/tokens/verify", StringComparison.Ordinal));

        // The token is bad: the check is unhealthy (Degraded), the state an attacker wants to exploit.
        var first = await client.GetFromJsonAsync<JsonElement>("/api/health", TestContext.Current.CancellationToken);
        Assert.Equal("Degraded", first.GetProperty("checks").GetProperty("dns").GetProperty("status").GetString());
        var before = Checks();

        var flood = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => client.GetAsync("/api/health", TestContext.Current.CancellationToken)));
        Assert.All(flood, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(before, Checks());

        // Once the interval has passed, one more check for all callers together.
        host.Time.Advance(TimeSpan.FromSeconds(31));
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => client.GetAsync("/api/health", TestContext.Current.CancellationToken)));
        Assert.Equal(before + 1, Checks());
    }

    [Theory]
    [InlineData("zz")] // not hex
    [InlineData("FFFFFFFFFFFFFFFF")] // overflows
    [InlineData("5;\u0001")] // a bad chunk extension
    public async Task A_broken_chunked_body_is_a_4xx_on_every_JSON_endpoint_and_never_logged_as_an_error(string chunkSize)
    {
        var host = Start();
        var (url, adminKey) = (host.Device().BaseAddress!, host.AdminKey);
        foreach (var (path, authorization) in Endpoints(adminKey))
        {
            var status = await RawAsync(url, $"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{authorization}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunkSize}\r\n{{}}\r\n0\r\n\r\n");
            Assert.True(status is null or (>= 400 and < 500), $"{path}: {status}");
        }

        AssertNoErrorsLogged(host);
    }

    [Fact]
    public async Task A_body_shorter_than_its_Content_Length_is_a_4xx_or_a_closed_connection_never_a_500()
    {
        var host = Start();
        var (url, adminKey) = (host.Device().BaseAddress!, host.AdminKey);
        foreach (var (path, authorization) in Endpoints(adminKey))
        {
            // The client announces 100 bytes, sends 10 and stops sending (its link dropped).
            var status = await RawAsync(url, $"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{authorization}Content-Length: 100\r\n\r\n{{\"deviceI\"", halfClose: true);
            Assert.True(status is null or (>= 400 and < 500), $"{path}: {status}");
        }

        AssertNoErrorsLogged(host);
    }

    [Fact]
    public async Task The_factory_CSV_is_refused_with_q_0_and_numbers_sent_as_strings_are_400()
    {
        var host = Start();
        using var admin = host.Admin();

        var request = new HttpRequestMessage(HttpMethod.Post, "/api/admin/devices/batch") { Content = JsonContent.Create(new { count = 1 }) };
        request.Headers.Accept.ParseAdd("text/csv;q=0, application/json");
        var json = await admin.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, json.StatusCode);
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);

        var csvRequest = new HttpRequestMessage(HttpMethod.Post, "/api/admin/devices/batch") { Content = JsonContent.Create(new { count = 1 }) };
        csvRequest.Headers.Accept.ParseAdd("text/csv");
        Assert.Equal("text/csv", (await admin.SendAsync(csvRequest, TestContext.Current.CancellationToken)).Content.Headers.ContentType?.MediaType);

        var wrongType = new StringContent("{\"count\":\"5\"}", Encoding.UTF8, "application/json");
        var problem = await HttpAssert.ProblemAsync(await admin.PostAsync("/api/admin/devices/batch", wrongType, TestContext.Current.CancellationToken), 400);
        Assert.Contains("count", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>Every endpoint that reads a JSON body, with the header it needs to get as far as reading it.</summary>
    private static IEnumerable<(string Path, string Authorization)> Endpoints(string adminKey)
    {
        var device = "X-Device-Secret: guess\r\n";
        var admin = $"Authorization: Bearer {adminKey}\r\n";
        return
        [
            ("/api/register", device),
            ("/api/renew", device),
            ("/api/addresses", device),
            ("/api/v1/csr", string.Empty),
            ("/api/admin/devices", admin),
            ("/api/admin/devices/batch", admin),
            ("/api/admin/csr/csr_0/deny", admin),
        ];
    }

    /// <summary>Sends <paramref name="request"/> as bytes; the status the server answered, or null when it closed without answering.</summary>
    private static async Task<int?> RawAsync(Uri server, string request, bool halfClose = false)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None);
        if (halfClose)
        {
            socket.Shutdown(SocketShutdown.Send);
        }

        var buffer = new byte[4096];
        var received = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (received < buffer.Length)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    break;
                }

                received += read;
                if (Encoding.ASCII.GetString(buffer, 0, received).Contains("\r\n", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (SocketException)
        {
            // Reset: closed without an answer.
        }

        var text = Encoding.ASCII.GetString(buffer, 0, received);
        return text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? int.Parse(text[9..12], System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    private static void AssertNoErrorsLogged(ProvisioningHostFactory host)
    {
        var errors = host.Logs.Where(l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    private ProvisioningHostFactory Start(Dictionary<string, string?>? settings = null)
    {
        var host = new ProvisioningHostFactory(settings: settings);
        _hosts.Add(host);
        using (host.Device())
        {
        }

        return host;
    }
}
