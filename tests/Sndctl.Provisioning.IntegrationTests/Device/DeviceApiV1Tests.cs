using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests.Device;

/// <summary>The versioned device API: aliases, a secret the device burns in, and what it saw resolving its own name.</summary>
public sealed class DeviceApiV1Tests : IAsyncLifetime
{
    private readonly ProvisioningHostFactory _host = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _host.DeleteData();
    }

    [Fact]
    public async Task Versioned_routes_and_the_unversioned_aliases_answer_the_same()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        var v1 = await client.SendAsync(ProvisioningHostFactory.Post("/api/v1/register", device.Secret, new { deviceId = device.DeviceId }));
        Assert.Equal(HttpStatusCode.OK, v1.StatusCode);
        var alias = await client.SendAsync(ProvisioningHostFactory.Register(device));
        Assert.Equal(HttpStatusCode.OK, alias.StatusCode);
        Assert.Equal(
            (await v1.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("certificate").GetString(),
            (await alias.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("certificate").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Post("/api/v1/renew", device.Secret, new { deviceId = device.DeviceId, hostname = device.Hostname }))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Post("/api/v1/addresses", device.Secret, new { deviceId = device.DeviceId, addresses = new[] { "192.168.4.4" } }))).StatusCode);
    }

    [Fact]
    public async Task A_new_secret_replaces_the_old_one_only_at_its_first_use_and_an_admin_sees_who_holds_a_factory_secret()
    {
        var device = await _host.CreateDeviceAsync();
        var untouched = await _host.CreateDeviceAsync();
        using var client = _host.Device();

        var first = await RotateAsync(client, device.DeviceId, device.Secret);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("no-store", first.Headers.CacheControl?.ToString());
        var body = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(device.Hostname, body.GetProperty("hostname").GetString());
        var lost = body.GetProperty("secret").GetString()!;

        // The answer was lost (power cut): the old secret still works, and asking again voids the lost one.
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(device))).StatusCode);
        var second = (await (await RotateAsync(client, device.DeviceId, device.Secret)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(ProvisioningHostFactory.Register(device, secret: lost))).StatusCode);

        using var admin = _host.Admin();
        var view = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        Assert.True(view.GetProperty("factorySecret").GetBoolean());
        Assert.True(view.GetProperty("secretRotationPending").GetBoolean());

        // The first call with the new secret makes it the secret; the factory one stops working.
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(device, secret: second))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(ProvisioningHostFactory.Register(device))).StatusCode);
        view = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        Assert.False(view.GetProperty("factorySecret").GetBoolean());
        Assert.False(view.GetProperty("secretRotationPending").GetBoolean());
        Assert.True(view.TryGetProperty("secretChangedAt", out var changedAt) && changedAt.ValueKind == JsonValueKind.String);

        var factory = await admin.GetFromJsonAsync<JsonElement>("/api/admin/devices?factorySecret=true");
        var ids = factory.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("deviceId").GetString()).ToList();
        Assert.Contains(untouched.DeviceId, ids);
        Assert.DoesNotContain(device.DeviceId, ids);
        var statistics = await admin.GetFromJsonAsync<JsonElement>("/api/admin/statistics");
        Assert.Equal(1, statistics.GetProperty("devicesWithFactorySecret").GetInt32());
        // The soonest end of a current device certificate (the one registered above: the private CA's lifetime ahead).
        Assert.InRange(statistics.GetProperty("earliestCertificateExpiry").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddDays(1), DateTimeOffset.UtcNow.AddYears(2));
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/admin/devices?factorySecret=maybe"), 400);

        // An admin rotation makes it a factory secret again and voids a pending one.
        await RotateAsync(client, device.DeviceId, second);
        var byAdmin = (await (await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/secret", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        Assert.True((await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}")).GetProperty("factorySecret").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(device, secret: byAdmin))).StatusCode);
    }

    [Fact]
    public async Task Secret_rotation_refuses_wrong_credentials_disabled_devices_and_bad_bodies_and_changes_nothing()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        await HttpAssert.ProblemAsync(await RotateAsync(client, device.DeviceId, "wrong"), 401);
        await HttpAssert.ProblemAsync(await RotateAsync(client, "Not_An_Id", device.Secret), 400);
        using (var garbage = new HttpRequestMessage(HttpMethod.Post, "/api/v1/secret") { Content = new StringContent("{\"deviceId\":", System.Text.Encoding.UTF8, "application/json") })
        {
            garbage.Headers.Add("X-Device-Secret", device.Secret);
            await HttpAssert.ProblemAsync(await client.SendAsync(garbage), 400);
        }

        using var admin = _host.Admin();
        Assert.False((await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}")).GetProperty("secretRotationPending").GetBoolean());

        await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/disable", null);
        await HttpAssert.ProblemAsync(await RotateAsync(client, device.DeviceId, device.Secret), 403);
        Assert.False((await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}")).GetProperty("secretRotationPending").GetBoolean());
    }

    [Fact]
    public async Task Resolution_is_kept_shown_filtered_and_counted_and_a_bad_value_is_a_400()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        var sent = await client.SendAsync(ProvisioningHostFactory.Post("/api/v1/addresses", device.Secret, new { deviceId = device.DeviceId, addresses = new[] { "192.168.4.5" }, resolution = "blocked" }));
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Post("/api/v1/register", device.Secret, new { deviceId = device.DeviceId, resolution = "maybe" })), 400);
        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Post("/api/v1/register", device.Secret, new { deviceId = device.DeviceId, resolution = "unknown" })), 400);

        using var admin = _host.Admin();
        Assert.Equal("blocked", (await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}")).GetProperty("resolution").GetString());
        var blocked = await admin.GetFromJsonAsync<JsonElement>("/api/admin/devices?resolution=blocked");
        Assert.Equal([device.DeviceId], blocked.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("deviceId").GetString()));

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Post("/api/v1/register", device.Secret, new { deviceId = device.DeviceId, resolution = "ok" }))).StatusCode);
        var statistics = await admin.GetFromJsonAsync<JsonElement>("/api/admin/statistics");
        Assert.Equal(1, statistics.GetProperty("devicesByResolution").GetProperty("ok").GetInt32());
        Assert.Equal(0, statistics.GetProperty("devicesByResolution").GetProperty("blocked").GetInt32());
    }

    [Fact]
    public async Task The_Python_example_in_the_docs_runs_as_it_is_and_gets_a_certificate_for_its_own_key()
    {
        var root = DeploymentManifestTests.RepositoryRoot();
        var script = Path.Combine(root, "clients", "python", "register.py");
        var code = await File.ReadAllTextAsync(script);
        Assert.Contains("```python\n" + code + "```", await File.ReadAllTextAsync(Path.Combine(root, "docs", "devices.md")), StringComparison.Ordinal);

        var device = await _host.CreateDeviceAsync();
        var work = Directory.CreateTempSubdirectory("sndctl-python-").FullName;
        try
        {
            var secretFile = Path.Combine(work, "secret");
            await File.WriteAllTextAsync(secretFile, device.Secret + "\n");
            using var client = _host.Device();
            var environment = new Dictionary<string, string?>
            {
                ["SNDCTL_SERVER"] = client.BaseAddress!.AbsoluteUri,
                ["SNDCTL_DEVICE_ID"] = device.DeviceId,
                ["SNDCTL_HOSTNAME"] = device.Hostname,
                ["SNDCTL_SECRET_FILE"] = secretFile,
                ["SNDCTL_DIR"] = Path.Combine(work, "tls"),
            };
            var (exit, output, error) = await ProcessRunner.RunAsync("python3", [script], work, environment);
            Assert.True(exit == 0, output + error);
            Assert.Contains(device.Hostname + ": certificate until", output, StringComparison.Ordinal);
            var certificate = Path.Combine(work, "tls", "cert.pem");
            Assert.Equal(
                await ProcessRunner.OpenSslAsync(work, "x509", "-in", certificate, "-noout", "-pubkey"),
                await ProcessRunner.OpenSslAsync(work, "pkey", "-in", Path.Combine(work, "tls", "key.pem"), "-pubout"));
            Assert.Contains("DNS:" + device.Hostname, await ProcessRunner.OpenSslAsync(work, "x509", "-in", certificate, "-noout", "-ext", "subjectAltName"), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static Task<HttpResponseMessage> RotateAsync(HttpClient client, string deviceId, string secret)
        => client.SendAsync(ProvisioningHostFactory.Post("/api/v1/secret", secret, new { deviceId }));
}
