using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

public sealed class DeviceApiErrorTests : IAsyncLifetime
{
    private readonly ProvisioningHostFactory _host = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _host.DeleteData();
    }

    [Fact]
    public async Task Register_unknown_device_and_wrong_secret_same_answer()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();

        var unknown = await HttpAssert.ProblemAsync(
            await client.SendAsync(ProvisioningHostFactory.Register(device with { DeviceId = "0000000000ab" })), 401);
        var wrong = await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device, secret: "wrong-secret")), 401);
        var missing = await client.SendAsync(ProvisioningHostFactory.Post("/api/register", null, new { deviceId = device.DeviceId }));

        Assert.Equal(unknown.GetProperty("detail").GetString(), wrong.GetProperty("detail").GetString());
        Assert.Equal(unknown.GetProperty("type").GetString(), wrong.GetProperty("type").GetString());
        await HttpAssert.ProblemAsync(missing, 401);
        await AssertUntouchedAsync(device);
    }

    [Fact]
    public async Task A_disabled_device_gets_403_and_works_again_once_enabled()
    {
        var device = await _host.CreateDeviceAsync();
        using var admin = _host.Admin();
        using var client = _host.Device();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/disable", null)).StatusCode);

        var problem = await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device)), 403);
        Assert.EndsWith("device-disabled", problem.GetProperty("type").GetString());
        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Renew(device)), 403);

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/enable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(device))).StatusCode);
    }

    [Fact]
    public async Task Renewing_with_another_devices_hostname_is_403()
    {
        var device = await _host.CreateDeviceAsync();
        var other = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(device))).StatusCode);

        var problem = await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Renew(device, hostname: other.Hostname)), 403);
        Assert.EndsWith("hostname-mismatch", problem.GetProperty("type").GetString());
        await AssertUntouchedAsync(other);
    }

    public static TheoryData<string, string, int> BadBodies => new()
    {
        { "/api/register", "{not json", 400 },
        { "/api/register", "", 400 },
        { "/api/register", "[]", 400 },
        { "/api/register", "null", 400 },
        { "/api/register", "{}", 400 },
        { "/api/register", """{"deviceId":123}""", 400 },
        { "/api/register", """{"deviceId":"Not_A_Label"}""", 400 },
        { "/api/register", """{"deviceId":"-abc"}""", 400 },
        { "/api/register", """{"deviceId":"%DEVICE%","csr":"garbage"}""", 400 },
        { "/api/renew", """{"deviceId":"%DEVICE%"}""", 400 },
        { "/api/renew", """{"deviceId":"%DEVICE%","hostname":5}""", 400 },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Post_malformed_input_problem_and_no_state_change(string path, string body, int status)
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body.Replace("%DEVICE%", device.DeviceId, StringComparison.Ordinal), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Device-Secret", device.Secret);

        await HttpAssert.ProblemAsync(await client.SendAsync(request), status);
        await AssertUntouchedAsync(device);
    }

    [Fact]
    public async Task An_oversized_body_is_413()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        var huge = JsonSerializer.Serialize(new { deviceId = device.DeviceId, csr = new string('A', 200_000) });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/register") { Content = new StringContent(huge, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Device-Secret", device.Secret);
        await HttpAssert.ProblemAsync(await client.SendAsync(request), 413);

        // Without Content-Length (chunked) the limit holds too.
        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/api/register")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge))),
        };
        chunked.Content.Headers.ContentType = new("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        chunked.Headers.Add("X-Device-Secret", device.Secret);
        await HttpAssert.ProblemAsync(await client.SendAsync(chunked), 413);
        await AssertUntouchedAsync(device);
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_is_415()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/register") { Content = new StringContent("deviceId=x", Encoding.UTF8, "application/x-www-form-urlencoded") };
        request.Headers.Add("X-Device-Secret", device.Secret);
        await HttpAssert.ProblemAsync(await client.SendAsync(request), 415);
    }

    [Fact]
    public async Task Repeated_wrong_secrets_are_throttled_but_the_right_secret_is_always_served()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        for (var i = 0; i < 10; i++)
        {
            await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device, secret: "wrong")), 401);
        }

        var throttled = await client.SendAsync(ProvisioningHostFactory.Register(device, secret: "wrong"));
        var problem = await HttpAssert.ProblemAsync(throttled, 429);
        Assert.EndsWith("/too-many-failures", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.True(throttled.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        // The device itself, from the attacker's own address, is not locked out.
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(device))).StatusCode);
        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device, secret: "wrong")), 429);

        _host.Time.Advance(TimeSpan.FromMinutes(16));
        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device, secret: "wrong")), 401);
    }

    [Fact]
    public async Task Unknown_route_problem_json()
    {
        using var client = _host.Device();
        var response = await client.GetAsync("/api/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private async Task AssertUntouchedAsync(CreatedDevice device)
    {
        using var admin = _host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        Assert.Equal("pending", details.GetProperty("status").GetString());
        Assert.Empty(details.GetProperty("certificates").EnumerateArray());
        Assert.Single(details.GetProperty("events").EnumerateArray());
    }
}
