using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Sndctl.Provisioning.Tests.Shared;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>The attacks of docs/security.md, tried over HTTP against the reference host.</summary>
public sealed class HardeningTests : IAsyncLifetime
{
    private readonly ProvisioningHostFactory _host = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _host.DeleteData();
    }

    [Fact]
    public async Task Strangers_failures_from_a_shared_address_lock_out_neither_the_device_nor_its_neighbours_nor_an_admin()
    {
        var victim = await _host.CreateDeviceAsync();
        var neighbour = await _host.CreateDeviceAsync();
        using var client = _host.Device();

        // An attacker behind the same NAT guesses secrets for the victim and sprays unknown IDs.
        for (var i = 0; i < 40; i++)
        {
            await client.SendAsync(ProvisioningHostFactory.Register(victim, secret: "guess" + i));
            await client.SendAsync(ProvisioningHostFactory.Register(victim with { DeviceId = $"{i:x12}" }, secret: "guess"));
        }

        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(victim, secret: "guess")), 429);
        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(neighbour, secret: "guess")), 429);

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(victim))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Renew(victim))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(neighbour))).StatusCode);
        using var admin = _host.Admin();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/admin/devices")).StatusCode);
    }

    [Fact]
    public async Task Wrong_admin_keys_are_throttled_but_a_right_key_always_gets_in_also_at_the_portal()
    {
        using var stranger = _host.Device();
        stranger.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", new string('x', 40));
        for (var i = 0; i < 30; i++)
        {
            await HttpAssert.ProblemAsync(await stranger.GetAsync("/api/admin/devices"), 401);
        }

        var throttled = await stranger.GetAsync("/api/admin/devices");
        await HttpAssert.ProblemAsync(throttled, 429);
        Assert.NotNull(throttled.Headers.RetryAfter);

        using var admin = _host.Admin();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/admin/devices")).StatusCode);
        using var portal = await AdminPortalTests.SignedInClientAsync(_host);
        Assert.Equal(HttpStatusCode.OK, (await portal.GetAsync("/admin")).StatusCode);

        // A wrong key at the portal, from the throttled address, is told to wait.
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = stranger.BaseAddress };
        var token = AdminPortalTests.Token(await browser.GetStringAsync("/admin/login"));
        var refused = await browser.PostAsync("/admin/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = "wrong", ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
    }

    [Fact]
    public async Task Crafted_CSRs_are_400_problems_or_denials_at_both_entry_points_and_never_500()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        foreach (var (attack, csr) in CraftedCsrs.All(device.Hostname))
        {
            var problem = await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device, csr: csr)), 400);
            Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()), attack);
            await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Renew(device, csr: csr)), 400);
        }

        using var admin = _host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        Assert.Equal("pending", details.GetProperty("status").GetString());
        Assert.Empty(details.GetProperty("certificates").EnumerateArray());

        var (csrHost, _) = ProvisioningHostFactory.StartForCsr();
        await using (csrHost)
        {
            using var csrClient = csrHost.Device();
            foreach (var (attack, csr) in CraftedCsrs.All("10.0.0.1"))
            {
                var response = await csrClient.PostAsJsonAsync("/api/v1/csr", new { content = csr });
                if (response.StatusCode == HttpStatusCode.BadRequest)
                {
                    await HttpAssert.ProblemAsync(response, 400);
                    continue;
                }

                Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{attack}: {response.StatusCode}");
                var body = await response.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal("denied", body.GetProperty("status").GetString());
                Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("message").GetString()));
            }
        }

        csrHost.DeleteData();
    }
}
