using System.Net.Http.Json;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// What a device and an operator see when issuance fails: DNS that never propagates, a challenge Pebble refuses, an unreachable CA, rate limits (account-wide and per name), and a CSR the CA refuses at finalize.
/// </summary>
public sealed class AcmeFailureTests : AcmeHostTestBase
{
    [Fact]
    public async Task A_TXT_record_that_never_propagates_gives_a_clear_503_and_is_cleaned_up()
    {
        var dns = new RecordingDnsProvider(Lab.DecoyChallTestSrv); // Written where the checked nameserver never sees it.
        var settings = Fallback(); // Our DNS side failing is no reason to ask another CA: one record only.
        settings["Provisioning:Acme:PropagationTimeout"] = "00:00:01";
        var host = StartHost(settings, services => dns.Replace(services));
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        var response = await client.SendAsync(ProvisioningHostFactory.Register(device));

        var problem = await HttpAssert.ProblemAsync(response, 503);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.DoesNotContain(Lab.ChallTestSrvDns, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var failure = await FailureEventAsync(host, device);
        Assert.Contains("did not reach every nameserver", failure, StringComparison.Ordinal);
        Assert.Contains(Lab.ChallTestSrvDns, failure, StringComparison.Ordinal);
        Assert.Single(dns.Created);
        Assert.Equal(dns.Created, dns.Deleted);
        await AssertNothingStoredAsync(host, device);
    }

    [Fact]
    public async Task A_challenge_that_fails_validation_gives_a_clear_error_stores_nothing_and_cleans_up()
    {
        var dns = new RecordingDnsProvider(Lab.DecoyChallTestSrv); // Propagation is checked there; Pebble asks the real one.
        var host = StartHost(
            new() { ["Provisioning:Acme:PropagationNameservers:0"] = Lab.DecoyChallTestSrvDns },
            services => dns.Replace(services));
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        var response = await client.SendAsync(ProvisioningHostFactory.Register(device));

        var problem = await HttpAssert.ProblemAsync(response, 502);
        Assert.DoesNotContain("DNS-01", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(problem.TryGetProperty("traceId", out _), problem.ToString());
        Assert.Equal(dns.Created, dns.Deleted);
        await AssertNothingStoredAsync(host, device);

        // The device is told something stable; the operator reads what went wrong in the device's events.
        var failure = await FailureEventAsync(host, device);
        Assert.Contains("DNS-01 validation failed", failure, StringComparison.Ordinal);
        Assert.Contains(device.Hostname, failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_CA_gives_503_with_Retry_After_and_the_device_registers_once_it_is_back()
    {
        var proxy = await StartProxyAsync();
        var host = StartHost(directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();
        proxy.Down = true;

        var response = await client.SendAsync(ProvisioningHostFactory.Register(device));

        var problem = await HttpAssert.ProblemAsync(response, 503);
        Assert.NotNull(response.Headers.RetryAfter);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.DoesNotContain(proxy.Directory.Authority, detail, StringComparison.Ordinal); // no CA host, no socket error for the device
        Assert.DoesNotContain("reached", detail, StringComparison.Ordinal);
        Assert.True(problem.TryGetProperty("traceId", out _), problem.ToString());
        await AssertNothingStoredAsync(host, device);
        Assert.Contains("could not be reached", await FailureEventAsync(host, device), StringComparison.Ordinal);

        proxy.Down = false;
        var body = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        await AssertValidForAsync(body, device.Hostname);
    }

    [Fact]
    public async Task A_rateLimited_answer_gives_503_with_the_CAs_Retry_After_and_pauses_new_orders()
    {
        var proxy = await StartProxyAsync();
        proxy.RateLimitNextOrders = 1;
        proxy.RateLimitRetryAfter = TimeSpan.FromSeconds(120);
        var host = StartHost(directory: proxy.Directory);
        var first = await host.CreateDeviceAsync();
        var second = await host.CreateDeviceAsync();
        using var client = host.Device();

        var limited = await client.SendAsync(ProvisioningHostFactory.Register(first));
        var problem = await HttpAssert.ProblemAsync(limited, 503);
        Assert.Equal(TimeSpan.FromSeconds(120), limited.Headers.RetryAfter?.Delta);
        Assert.DoesNotContain("rate limit", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("rate limit", await FailureEventAsync(host, first), StringComparison.OrdinalIgnoreCase);

        // Another device meanwhile: refused locally, the CA is not asked again.
        var paused = await client.SendAsync(ProvisioningHostFactory.Register(second));
        await HttpAssert.ProblemAsync(paused, 503);
        Assert.InRange(paused.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(120));
        Assert.Single(proxy.NewOrders);
        var health = await client.GetFromJsonAsync<JsonElement>("/api/health");
        Assert.Equal("Degraded", health.GetProperty("checks").GetProperty("issuer").GetProperty("status").GetString());

        host.Time.Advance(TimeSpan.FromSeconds(121));
        await AssertValidForAsync(await ProvisionAsync(client, ProvisioningHostFactory.Register(second)), second.Hostname);
    }

    [Fact]
    public async Task A_rate_limit_for_one_name_holds_back_only_that_device()
    {
        var proxy = await StartProxyAsync();
        proxy.RateLimitNextOrders = 1;
        proxy.RateLimitDetail = "too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s: see https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-identifiers";
        var host = StartHost(directory: proxy.Directory);
        var first = await host.CreateDeviceAsync();
        var second = await host.CreateDeviceAsync();
        using var client = host.Device();

        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(first)), 503);
        await AssertValidForAsync(await ProvisionAsync(client, ProvisioningHostFactory.Register(second)), second.Hostname);

        // The limited device is held back locally: the CA is not asked again for it until Retry-After.
        var held = await client.SendAsync(ProvisioningHostFactory.Register(first));
        await HttpAssert.ProblemAsync(held, 503);
        Assert.Equal(2, proxy.NewOrders.Count);
        var health = await client.GetFromJsonAsync<JsonElement>("/api/health");
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("issuer").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_CSR_the_CA_refuses_at_finalize_costs_an_order_each_time_and_is_limited_per_device()
    {
        var proxy = await StartProxyAsync();
        proxy.RefuseNextFinalizes = 100;

        // One device sending a CSR the CA refuses: five refusals an hour, then 429 without another order.
        var host = StartHost(directory: proxy.Directory);
        var device = await host.CreateDeviceAsync();
        var csr = DeviceCsr(device.Hostname);
        using var client = host.Device();
        for (var i = 0; i < 5; i++)
        {
            await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device, csr: csr)), 502);
        }

        Assert.Equal(5, proxy.NewOrders.Count);
        var limited = await client.SendAsync(ProvisioningHostFactory.Register(device, csr: csr));
        var problem = await HttpAssert.ProblemAsync(limited, 429);
        Assert.EndsWith("/device-issuance-limit", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(60));
        Assert.Equal(5, proxy.NewOrders.Count);

        // The CA counted every refused order: so does the account's order budget (3 here). The fourth is not placed.
        var counted = StartHost(new() { ["Provisioning:Acme:RateLimits:NewOrdersPerAccount"] = "3" }, directory: proxy.Directory);
        using var countedClient = counted.Device();
        var devices = new List<CreatedDevice>();
        for (var i = 0; i < 4; i++)
        {
            devices.Add(await counted.CreateDeviceAsync());
        }

        var before = proxy.NewOrders.Count;
        foreach (var refused in devices.Take(3))
        {
            await HttpAssert.ProblemAsync(await countedClient.SendAsync(ProvisioningHostFactory.Register(refused, csr: DeviceCsr(refused.Hostname))), 502);
        }

        await HttpAssert.ProblemAsync(await countedClient.SendAsync(ProvisioningHostFactory.Register(devices[3], csr: DeviceCsr(devices[3].Hostname))), 503);
        Assert.Equal(before + 3, proxy.NewOrders.Count);
    }
}
