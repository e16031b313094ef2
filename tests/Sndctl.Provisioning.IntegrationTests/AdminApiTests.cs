using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

public sealed class AdminApiTests : IAsyncLifetime
{
    private readonly ProvisioningHostFactory _host = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _host.DeleteData();
    }

    [Theory]
    [InlineData("GET", "/api/admin/devices")]
    [InlineData("POST", "/api/admin/devices")]
    [InlineData("POST", "/api/admin/devices/batch")]
    [InlineData("GET", "/api/admin/events/export")]
    [InlineData("GET", "/api/admin/devices/abc")]
    [InlineData("POST", "/api/admin/devices/abc/disable")]
    [InlineData("POST", "/api/admin/devices/abc/enable")]
    [InlineData("POST", "/api/admin/devices/abc/secret")]
    [InlineData("POST", "/api/admin/devices/abc/revoke")]
    [InlineData("DELETE", "/api/admin/devices/abc")]
    [InlineData("GET", "/api/admin/events")]
    [InlineData("GET", "/api/admin/statistics")]
    public async Task Admin_endpoints_without_a_key_or_with_a_wrong_one_are_401(string method, string path)
    {
        using var client = _host.Device();
        var none = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await HttpAssert.ProblemAsync(none, 401);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);

        using var wrong = new HttpRequestMessage(new HttpMethod(method), path);
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _host.AdminKey[..^1] + "x");
        await HttpAssert.ProblemAsync(await client.SendAsync(wrong), 401);
    }

    [Fact]
    public async Task Creating_a_device_with_a_given_ID_is_201_then_409_and_400_for_a_bad_ID()
    {
        using var admin = _host.Admin();
        var created = await admin.PostAsJsonAsync("/api/admin/devices", new { deviceId = "kitchen-01", labels = new Dictionary<string, string> { ["site"] = "berlin" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("kitchen-01.devices.localhost", body.GetProperty("hostname").GetString());
        Assert.Equal("pending", body.GetProperty("status").GetString());
        Assert.Equal(43, body.GetProperty("secret").GetString()!.Length);

        await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/admin/devices", new { deviceId = "kitchen-01" }), 409);
        await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/admin/devices", new { deviceId = "Kitchen_01" }), 400);
        await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/admin/devices", new { deviceId = new string('a', 64) }), 400);
    }

    [Fact]
    public async Task A_batch_of_1000_devices_comes_as_JSON_or_as_CSV_a_spreadsheet_reads()
    {
        using var admin = _host.Admin();
        var json = await admin.PostAsJsonAsync("/api/admin/devices/batch", new { count = 1000 });
        Assert.Equal(HttpStatusCode.Created, json.StatusCode);
        var devices = (await json.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("devices").EnumerateArray().ToList();
        Assert.Equal(1000, devices.Count);
        Assert.Equal(1000, devices.Select(d => d.GetProperty("deviceId").GetString()).Distinct().Count());

        using var csvRequest = new HttpRequestMessage(HttpMethod.Post, "/api/admin/devices/batch") { Content = JsonContent.Create(new { count = 1000 }) };
        csvRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var csv = await admin.SendAsync(csvRequest);
        Assert.Equal(HttpStatusCode.Created, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.Contains("attachment", csv.Content.Headers.ContentDisposition?.ToString() ?? csv.Headers.GetValues("Content-Disposition").Single());
        var text = await csv.Content.ReadAsStringAsync();
        var lines = text.Split("\r\n");
        Assert.Equal("deviceId,secret,hostname", lines[0]);
        Assert.Equal(string.Empty, lines[^1]);
        var rows = lines[1..^1].Select(l => l.Split(',')).ToList();
        Assert.Equal(1000, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal(3, r.Length);
            Assert.Matches("^[0-9a-f]{12}$", r[0]);
            Assert.DoesNotMatch("^[0-9]+(e[0-9]+)?$", r[0]);
            Assert.DoesNotMatch("^[=+@-]", r[1]);
            Assert.Equal(r[0] + ".devices.localhost", r[2]);
        });

        var list = await admin.GetFromJsonAsync<JsonElement>("/api/admin/devices?pageSize=10");
        Assert.Equal(2000, list.GetProperty("total").GetInt32());
        await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/admin/devices/batch", new { count = 0 }), 400);
        await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/admin/devices/batch", new { count = 10_001 }), 400);
    }

    [Fact]
    public async Task Audit_events_export_as_JSON_lines_after_a_cursor_once_they_have_settled()
    {
        using var admin = _host.Admin();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/admin/devices", new { deviceId = $"export-{i}" })).StatusCode);
        }

        // Written just now: not exported yet (a transaction committing late must not fall behind the cursor).
        var fresh = await admin.GetAsync("/api/admin/events/export");
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal("application/x-ndjson", fresh.Content.Headers.ContentType?.MediaType);
        Assert.Equal(string.Empty, await fresh.Content.ReadAsStringAsync());
        Assert.Equal("0", fresh.Headers.GetValues("Sndctl-Next-Cursor").Single());

        _host.Time.Advance(TimeSpan.FromSeconds(6));
        var first = await admin.GetAsync("/api/admin/events/export?limit=3");
        var lines = (await first.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, lines.Count);
        Assert.All(lines, l => Assert.Equal("device.created", l.GetProperty("type").GetString()));
        var cursor = first.Headers.GetValues("Sndctl-Next-Cursor").Single();
        Assert.Equal(lines[^1].GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture), cursor);

        var rest = await admin.GetAsync($"/api/admin/events/export?after={cursor}");
        var restLines = (await rest.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["export-3", "export-4"], restLines.Select(l => l.GetProperty("deviceId").GetString()));
        Assert.True(restLines[0].GetProperty("id").GetInt64() > long.Parse(cursor, System.Globalization.CultureInfo.InvariantCulture));

        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/admin/events/export?after=-1"), 400);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/admin/events/export?limit=10001"), 400);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/admin/events/export?limit=abc"), 400);
    }

    [Fact]
    public async Task List_search_and_paging_filters()
    {
        using var admin = _host.Admin();
        foreach (var id in new[] { "alpha-1", "alpha-2", "beta-1" })
        {
            await _host.CreateDeviceAsync(id);
        }

        await admin.PostAsync("/api/admin/devices/beta-1/disable", null);
        var alpha = await admin.GetFromJsonAsync<JsonElement>("/api/admin/devices?search=alpha");
        Assert.Equal(2, alpha.GetProperty("total").GetInt32());
        var disabled = await admin.GetFromJsonAsync<JsonElement>("/api/admin/devices?status=disabled");
        Assert.Equal("beta-1", disabled.GetProperty("items")[0].GetProperty("deviceId").GetString());
        var page2 = await admin.GetFromJsonAsync<JsonElement>("/api/admin/devices?page=2&pageSize=2");
        Assert.Single(page2.GetProperty("items").EnumerateArray());
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/admin/devices?status=weird"), 400);
        var byId = await admin.GetFromJsonAsync<JsonElement>("/api/admin/devices?sort=deviceId");
        Assert.Equal(["alpha-1", "alpha-2", "beta-1"], byId.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("deviceId").GetString()));
        var byIdDescending = await admin.GetFromJsonAsync<JsonElement>("/api/admin/devices?sort=-deviceId");
        Assert.Equal("beta-1", byIdDescending.GetProperty("items")[0].GetProperty("deviceId").GetString());
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/admin/devices?sort=colour"), 400);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/admin/devices?sort=1"), 400);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/admin/devices?page=0"), 400);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/admin/devices?pageSize=100000"), 400);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/admin/devices/nope"), 404);
    }

    [Fact]
    public async Task Rotate_secret_old_secret_stops_working_delete_removes_device()
    {
        var device = await _host.CreateDeviceAsync();
        using var admin = _host.Admin();
        using var client = _host.Device();
        var rotated = await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/secret", null);
        var secret = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;

        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device)), 401);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(device, secret: secret))).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/admin/devices/{device.DeviceId}")).StatusCode);
        await HttpAssert.ProblemAsync(await admin.DeleteAsync($"/api/admin/devices/{device.DeviceId}"), 404);
        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device, secret: secret)), 401);
        var events = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/events?deviceId={device.DeviceId}");
        Assert.Contains(events.GetProperty("items").EnumerateArray(), e => e.GetProperty("type").GetString() == "device.deleted");
    }

    [Fact]
    public async Task Secrets_never_in_logs_lists_or_events()
    {
        var device = await _host.CreateDeviceAsync();
        using var admin = _host.Admin();
        using var client = _host.Device();
        var batch = (await (await admin.PostAsJsonAsync("/api/admin/devices/batch", new { count = 5 })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("secret").GetString()!).ToList();
        var rotated = (await (await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/secret", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        await client.SendAsync(ProvisioningHostFactory.Register(device, secret: rotated));
        await client.SendAsync(ProvisioningHostFactory.Register(device, secret: device.Secret));

        var secrets = batch.Append(device.Secret).Append(rotated).Append(_host.AdminKey).ToList();
        var surfaces = new List<string>
        {
            await admin.GetStringAsync("/api/admin/devices?pageSize=500"),
            await admin.GetStringAsync($"/api/admin/devices/{device.DeviceId}"),
            await admin.GetStringAsync("/api/admin/events?pageSize=500"),
            string.Join('\n', _host.Logs),
        };
        Assert.NotEmpty(_host.Logs);
        foreach (var secret in secrets)
        {
            Assert.All(surfaces, s => Assert.DoesNotContain(secret, s, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Statistics_counts_by_status()
    {
        var device = await _host.CreateDeviceAsync();
        await _host.CreateDeviceAsync();
        using var client = _host.Device();
        await client.SendAsync(ProvisioningHostFactory.Register(device));
        using var admin = _host.Admin();
        var statistics = await admin.GetFromJsonAsync<JsonElement>("/api/admin/statistics");
        Assert.Equal(1, statistics.GetProperty("devicesByStatus").GetProperty("active").GetInt32());
        Assert.Equal(1, statistics.GetProperty("devicesByStatus").GetProperty("pending").GetInt32());
        Assert.Equal(2, statistics.GetProperty("total").GetInt32());
    }
}
