using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// Fallback CAs: the primary unreachable or its budget spent, a fallback issues and records itself; the next renewal goes back to the primary.
/// </summary>
public sealed class AcmeFallbackTests : AcmeHostTestBase
{
    [Fact]
    public async Task The_primary_CA_unreachable_a_fallback_CA_issues_records_itself_and_the_next_renewal_returns_to_the_primary()
    {
        var proxy = await StartProxyAsync();
        var host = StartHost(Fallback(), directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();
        proxy.Down = true;

        // The primary cannot be reached: the fallback (an EAB-requiring Pebble, its own account) issues.
        var fromFallback = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));

        await AssertValidForAsync(fromFallback, device.Hostname, fallback: true);
        using var admin = host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        var issued = Assert.Single(details.GetProperty("certificates").EnumerateArray().ToList());
        Assert.Equal(Lab.EabDirectory.AbsoluteUri, issued.GetProperty("certificateAuthority").GetString());
        Assert.Contains(details.GetProperty("events").EnumerateArray(), e => e.GetProperty("type").GetString() == AuditEventTypes.CertificateIssued
            && e.GetProperty("details").GetString()!.Contains("from " + Lab.EabDirectory.AbsoluteUri, StringComparison.Ordinal));
        Assert.Empty(proxy.NewOrders);
        var health = await admin.GetFromJsonAsync<JsonElement>("/api/health");
        var issuer = health.GetProperty("checks").GetProperty("issuer");
        Assert.Equal("Degraded", issuer.GetProperty("status").GetString());
        Assert.Contains("fallback CA " + Lab.EabDirectory.AbsoluteUri, issuer.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains(host.Logs, l => l.Contains("fallback-1", StringComparison.Ordinal));

        // The primary is back: the renewal (in its window) goes to it, without ARI's replaces (that ID means nothing to another CA).
        proxy.Down = false;
        host.Time.Advance(fromFallback.RenewAfter - host.Time.GetUtcNow() + TimeSpan.FromDays(1));
        var fromPrimary = await ProvisionAsync(client, ProvisioningHostFactory.Renew(device));

        await AssertValidForAsync(fromPrimary, device.Hostname);
        var order = Assert.Single(proxy.NewOrders);
        Assert.Null(order["replaces"]);
        details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        var current = details.GetProperty("certificates").EnumerateArray().Single(c => c.GetProperty("current").GetBoolean());
        Assert.Equal(proxy.Directory.AbsoluteUri, current.GetProperty("certificateAuthority").GetString());
        Assert.Equal("Healthy", (await admin.GetFromJsonAsync<JsonElement>("/api/health")).GetProperty("checks").GetProperty("issuer").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_spent_budget_sends_new_devices_to_the_fallback_CA_instead_of_the_queue()
    {
        var proxy = await StartProxyAsync();
        var settings = Fallback();
        settings["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = "1";
        var host = StartHost(settings, directory: proxy.Directory);
        var first = await host.CreateDeviceAsync();
        var second = await host.CreateDeviceAsync();
        using var client = host.Device();

        await AssertValidForAsync(await ProvisionAsync(client, ProvisioningHostFactory.Register(first)), first.Hostname);
        var response = await client.SendAsync(ProvisioningHostFactory.Register(second));

        // Not 202 queued: the fallback had room, and the primary was not asked for an order it could not cover.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<ProvisionResponse>())!;
        await AssertValidForAsync(body, second.Hostname, fallback: true);
        Assert.Single(proxy.NewOrders);
        using var admin = host.Admin();
        var budget = await admin.GetFromJsonAsync<JsonElement>("/api/admin/acme/budget");
        Assert.Equal(1, budget.GetProperty("domains")[0].GetProperty("used").GetInt32());
        Assert.Equal(0, budget.GetProperty("queue").GetProperty("depth").GetInt32());

        // Revoking it goes to the CA that issued it, with the account there (the primary's could not).
        var serial = SerialOf(body.Certificate);
        Assert.Equal("Valid", await Lab.GetCertificateStatusAsync(serial, eab: true));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/admin/devices/{second.DeviceId}/revoke", null)).StatusCode);
        Assert.Equal("Revoked", await Lab.GetCertificateStatusAsync(serial, eab: true));
    }

    [Fact]
    public async Task A_device_queued_while_the_fallback_CA_is_down_too_is_asked_back_when_the_fallback_may_issue()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Provisioning:Acme:Fallbacks:0:DirectoryUrl"] = "https://127.0.0.1:9/dir", // nothing listens there
            ["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = "1",
        };
        var host = StartHost(settings);
        var first = await host.CreateDeviceAsync();
        var second = await host.CreateDeviceAsync();
        using var client = host.Device();
        await AssertValidForAsync(await ProvisionAsync(client, ProvisioningHostFactory.Register(first)), first.Hostname);

        var response = await client.SendAsync(ProvisioningHostFactory.Register(second));

        // Queued at the primary (its turn is a week away), but asked back as soon as the fallback may answer.
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("queued", body.GetProperty("status").GetString());
        Assert.Equal(1, body.GetProperty("queuePosition").GetInt32());
        Assert.InRange(body.GetProperty("estimatedAt").GetDateTimeOffset() - host.Time.GetUtcNow(), TimeSpan.FromDays(6.9), TimeSpan.FromDays(7));
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
        var detail = body.GetProperty("detail").GetString()!;
        Assert.Contains("number 1 in the queue", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", detail, StringComparison.Ordinal); // no fallback CA's address, no budget settings
        Assert.DoesNotContain("budget", detail, StringComparison.OrdinalIgnoreCase);
    }
}
