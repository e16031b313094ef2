using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// What the CA tells about renewals and profiles: ARI renewal times and replaces, windows moved earlier, certificate profiles, and health probes that never register an account.
/// </summary>
public sealed class AcmeRenewalInfoTests : AcmeHostTestBase
{
    [Fact]
    public async Task Health_probes_read_the_directory_and_never_register_an_account()
    {
        var proxy = await StartProxyAsync();
        var host = StartHost(directory: proxy.Directory);
        using var client = host.Device();
        for (var i = 0; i < 3; i++)
        {
            var health = await client.GetFromJsonAsync<JsonElement>("/api/health");
            Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("issuer").GetProperty("status").GetString());
        }

        Assert.Equal(0, proxy.NewAccountRequests);
        var device = await host.CreateDeviceAsync();
        await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        Assert.InRange(proxy.NewAccountRequests, 1, 3); // registered at the first issuance (Pebble's random badNonce may make it retry)
    }

    [Fact]
    public async Task Renewal_time_comes_from_ARI_and_renewals_send_replaces()
    {
        var proxy = await StartProxyAsync();
        var windowStart = DateTimeOffset.UtcNow.AddDays(30);
        proxy.RenewalWindow = (windowStart, windowStart.AddDays(2));
        var host = StartHost(directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        var first = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        Assert.InRange(first.RenewAfter, windowStart.AddSeconds(-1), windowStart.AddDays(2).AddSeconds(1));
        Assert.Null(proxy.NewOrders.Single()["replaces"]);

        host.Time.Advance(first.RenewAfter - host.Time.GetUtcNow() + TimeSpan.FromMinutes(1));
        var renewed = await ProvisionAsync(client, ProvisioningHostFactory.Renew(device));

        Assert.NotEqual(SerialOf(first.Certificate), SerialOf(renewed.Certificate));
        var replaces = proxy.NewOrders.Last()["replaces"]?.GetValue<string>();
        Assert.Equal(Sndctl.Provisioning.Acme.AcmeCertificateIdentifier.TryGet(first.Certificate), replaces);
        Assert.Contains(replaces!, proxy.RenewalInfoRequests);
    }

    [Fact]
    public async Task A_renewal_window_the_CA_moves_earlier_is_honoured_without_waiting_for_the_device()
    {
        var proxy = await StartProxyAsync();
        var windowStart = DateTimeOffset.UtcNow.AddDays(30);
        proxy.RenewalWindow = (windowStart, windowStart.AddDays(2));
        var host = StartHost(directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();
        var first = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        Assert.True(first.RenewAfter >= windowStart.AddSeconds(-1));

        // The CA moves the window to the past (a mass revocation is coming); the daily ARI refresh takes it in.
        var now = host.Time.GetUtcNow();
        proxy.RenewalWindow = (now.AddMinutes(-10), now.AddMinutes(-5));
        var job = host.Services.GetServices<IProvisioningJob>().Single(j => j.Name == "ari-refresh");
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await job.RunAsync(scope.ServiceProvider, TestContext.Current.CancellationToken);
        }

        using var admin = host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        Assert.True(details.GetProperty("certificate").GetProperty("renewAfter").GetDateTimeOffset() <= now);

        // The device's next call renews at once, as a renewal (replaces: exempt from the CA's limits).
        var renewed = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        Assert.NotEqual(SerialOf(first.Certificate), SerialOf(renewed.Certificate));
        Assert.Equal(Sndctl.Provisioning.Acme.AcmeCertificateIdentifier.TryGet(first.Certificate), proxy.NewOrders.Last()["replaces"]?.GetValue<string>());
    }

    [Fact]
    public async Task A_configured_certificate_profile_is_requested_when_the_CA_offers_it_and_refused_clearly_when_not()
    {
        var proxy = await StartProxyAsync();
        proxy.Profiles = new() { ["classic"] = "The profile you're used to", ["shortlived"] = "Six-day certificates" };
        var host = StartHost(new() { ["Provisioning:Acme:Profile"] = "shortlived" }, directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        Assert.Equal("shortlived", proxy.NewOrders.Single()["profile"]?.GetValue<string>());

        var other = StartHost(new() { ["Provisioning:Acme:Profile"] = "tlsserver" }, directory: proxy.Directory);
        var refusedDevice = await other.CreateDeviceAsync();
        using var otherClient = other.Device();
        var refused = await otherClient.SendAsync(ProvisioningHostFactory.Register(refusedDevice));
        var problem = await HttpAssert.ProblemAsync(refused, 502);
        Assert.DoesNotContain("'tlsserver'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var failure = await FailureEventAsync(other, refusedDevice);
        Assert.Contains("'tlsserver'", failure, StringComparison.Ordinal);
        Assert.Contains("classic, shortlived", failure, StringComparison.Ordinal);
        Assert.Single(proxy.NewOrders); // Refused before asking the CA.
    }
}
