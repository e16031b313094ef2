using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The Let's Encrypt budget governor: the budget shown and counted, the queue with its ETAs, the background job certifying a fleet as the budget refills, queue claims, the override, and a CA that runs out early.
/// </summary>
public sealed class AcmeBudgetTests : AcmeHostTestBase
{
    [Fact]
    public async Task The_portal_dashboard_shows_the_ACME_budget_used_by_issuance()
    {
        var host = StartHost();
        var device = await host.CreateDeviceAsync();
        using (var client = host.Device())
        {
            await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
        }

        using var portal = await AdminPortalTests.SignedInClientAsync(host);
        var dashboard = await portal.GetStringAsync("/admin");

        Assert.Contains("Issuer: <strong>Acme</strong>", dashboard, StringComparison.Ordinal);
        Assert.Contains("CA budget for <strong>example.test</strong>: <strong>1 of 50</strong> new certificates per 7 days", dashboard, StringComparison.Ordinal);
        Assert.Contains("No new device waits for the budget.", dashboard, StringComparison.Ordinal);
        Assert.Matches("<rect class=\"ok\" [^>]*height=\"120\"><title>[0-9-]+: 1 issued</title>", dashboard);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_device_agent_of_a_device_the_spent_budget_queues_exits_3_with_the_queues_seconds()
    {
        var host = StartHost(new()
        {
            ["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = "1",
            ["Provisioning:Acme:RateLimits:RegisteredDomainWindow"] = "7.00:00:00",
        });
        var first = await host.CreateDeviceAsync();
        using var client = host.Device();
        await ProvisionAsync(client, ProvisioningHostFactory.Register(first));

        var device = await host.CreateDeviceAsync();
        var work = Directory.CreateTempSubdirectory("sndctl-agent-queued-").FullName;
        try
        {
            var agent = new Device.DeviceAgent(work);
            var (secretFile, dir) = agent.Prepare(device);
            var run = await agent.RunAsync(client.BaseAddress!.AbsoluteUri.TrimEnd('/'), device, secretFile, dir, ["--once"]);
            Assert.True(run.ExitCode == 3, run.Output);
            Assert.Contains("(202)", run.Output, StringComparison.Ordinal);
            Assert.True(int.TryParse(run.StandardOutput.Trim(), out var seconds) && seconds > 3600, run.Output); // the budget refills in days
            Assert.False(File.Exists(Path.Combine(dir, "cert.pem")));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task A_fleet_of_200_against_a_budget_of_50_is_certified_by_the_background_job_as_the_budget_refills_with_no_5xx()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var proxy = await StartProxyAsync();
        var host = StartHost(
            new()
            {
                ["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = "50",
                ["Provisioning:Acme:RateLimits:RegisteredDomainWindow"] = "7.00:00:00",
            },
            WithoutJobRunner,
            directory: proxy.Directory);
        var devices = new List<CreatedDevice>();
        for (var i = 0; i < 200; i++)
        {
            devices.Add(await host.CreateDeviceAsync());
        }

        // Launch day: the whole fleet boots at once (8 at a time). 50 get certificates, 150 are queued; nobody gets a 5xx.
        using var client = host.Device();
        var answers = new ConcurrentBag<(HttpStatusCode Status, JsonElement Body)>();
        await Parallel.ForEachAsync(devices, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellation }, async (device, token) =>
        {
            using var response = await client.SendAsync(ProvisioningHostFactory.Register(device), token);
            answers.Add((response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>(token)));
        });

        Assert.Equal(50, answers.Count(a => a.Status == HttpStatusCode.OK));
        var queued = answers.Where(a => a.Status == HttpStatusCode.Accepted).Select(a => a.Body).ToList();
        Assert.Equal(150, queued.Count);
        Assert.All(queued, q => Assert.Equal("queued", q.GetProperty("status").GetString()));
        Assert.All(queued, q => Assert.InRange(q.GetProperty("queuePosition").GetInt32(), 1, 150));
        // One slot refills every 7 days / 50 = 3.36 h: the last of 150 is due about 21 days out.
        var last = queued.Max(q => q.GetProperty("estimatedAt").GetDateTimeOffset());
        Assert.InRange(last - host.Time.GetUtcNow(), TimeSpan.FromDays(20), TimeSpan.FromDays(21.5));
        Assert.Equal(50, proxy.NewOrders.Count);

        // The test clock moves half a day at a time; the queued-issuance job (one instance, every minute) issues
        // as slots refill, and queued devices asking meanwhile are told to wait (202) or served (200), never 5xx.
        var job = host.Services.GetServices<IProvisioningJob>().Single(j => j.Name == "queued-issuance");
        var budget = host.Services.GetRequiredService<ICertificateAuthorityBudget>();
        var steps = 0;
        while ((await budget.GetReportAsync(cancellation)).QueueDepth > 0)
        {
            Assert.True(++steps <= 50, "the queue should drain within the refill schedule (about 21 days)");
            host.Time.Advance(TimeSpan.FromHours(12));
            await using (var scope = host.Services.CreateAsyncScope())
            {
                await job.RunAsync(scope.ServiceProvider, cancellation);
            }

            foreach (var device in devices.Skip(200 - (steps * 3 % 150) - 3).Take(3))
            {
                using var response = await client.SendAsync(ProvisioningHostFactory.Register(device), cancellation);
                Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, $"after {steps * 12} h: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellation)}");
            }
        }

        Assert.InRange(steps * 12, 20 * 24, 22 * 24);
        Assert.Equal(200, proxy.NewOrders.Count);

        // Every device's next call is the fast path: its own certificate, no further order.
        var serials = new HashSet<string>();
        var renewAfters = new List<DateTimeOffset>();
        foreach (var device in devices)
        {
            var body = await ProvisionAsync(client, ProvisioningHostFactory.Register(device));
            Assert.True(serials.Add(SerialOf(body.Certificate)));
            renewAfters.Add(body.RenewAfter);
        }

        Assert.Equal(200, proxy.NewOrders.Count);

        // Years later, the week before the first renewal times: the report counts the renewals due this week.
        host.Time.Advance(renewAfters.Min() - TimeSpan.FromDays(6) - host.Time.GetUtcNow());
        var due = renewAfters.Count(r => r < host.Time.GetUtcNow().AddDays(7));
        Assert.InRange(due, 1, 200);
        using var admin = host.Admin();
        Assert.Equal(due, (await admin.GetFromJsonAsync<JsonElement>("/api/admin/acme/budget", cancellation)).GetProperty("renewals").GetProperty("dueThisWeek").GetInt32());
    }

    [Fact]
    public async Task Queued_devices_that_keep_their_key_and_never_come_back_cannot_block_the_queue_but_one_that_comes_at_its_turn_is_served()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var proxy = await StartProxyAsync();
        var host = StartHost(
            new()
            {
                ["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = "1",
                ["Provisioning:Acme:RateLimits:RegisteredDomainWindow"] = "7.00:00:00",
            },
            WithoutJobRunner,
            directory: proxy.Directory);
        using var client = host.Device();
        var job = host.Services.GetServices<IProvisioningJob>().Single(j => j.Name == "queued-issuance");
        async Task DrainAsync()
        {
            await using var scope = host.Services.CreateAsyncScope();
            await job.RunAsync(scope.ServiceProvider, cancellation);
        }

        await ProvisionAsync(client, ProvisioningHostFactory.Register(await host.CreateDeviceAsync())); // the week's one slot

        // Three devices with their own keys queue (the server cannot issue for them without them), then one whose key the server makes.
        var colluders = new List<(CreatedDevice Device, string Csr)>();
        for (var i = 0; i < 3; i++)
        {
            var device = await host.CreateDeviceAsync();
            colluders.Add((device, DeviceCsr(device.Hostname)));
            var queued = await client.SendAsync(ProvisioningHostFactory.Register(device, csr: colluders[i].Csr), cancellation);
            Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        }

        var victim = await host.CreateDeviceAsync();
        var victimQueued = await (await client.SendAsync(ProvisioningHostFactory.Register(victim), cancellation)).Content.ReadFromJsonAsync<JsonElement>(cancellation);
        Assert.Equal(4, victimQueued.GetProperty("queuePosition").GetInt32());
        var orders = proxy.NewOrders.Count;

        // The first colluder's turn: the slot waits for it (its claim window), and it is served when it comes.
        host.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(5));
        await DrainAsync();
        Assert.Equal(orders, proxy.NewOrders.Count);
        var served = await client.SendAsync(ProvisioningHostFactory.Register(colluders[0].Device, csr: colluders[0].Csr), cancellation);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);

        // The second colluder's turn passes without it: once its claim ends, the background drain passes over the
        // devices it cannot serve and issues for the one behind them, a week before its own estimate.
        host.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(16));
        await DrainAsync();
        Assert.Equal(orders + 2, proxy.NewOrders.Count);
        var victimServed = await ProvisionAsync(client, ProvisioningHostFactory.Register(victim));
        Assert.Equal(orders + 2, proxy.NewOrders.Count); // the fast path: issued in the background

        // The colluder that stayed away keeps its place in line, first now, and is served at its next slot.
        var late = await (await client.SendAsync(ProvisioningHostFactory.Register(colluders[1].Device, csr: colluders[1].Csr), cancellation)).Content.ReadFromJsonAsync<JsonElement>(cancellation);
        Assert.Equal("queued", late.GetProperty("status").GetString());
        Assert.Equal(1, late.GetProperty("queuePosition").GetInt32());
        Assert.NotNull(victimServed.Certificate);
    }

    [Fact]
    public async Task A_spent_budget_queues_new_devices_in_order_with_ETAs_serves_certified_ones_and_an_override_drains_the_queue()
    {
        var proxy = await StartProxyAsync();
        var data = Path.Combine(Path.GetTempPath(), "sndctl-it-" + Guid.NewGuid().ToString("N"));
        Dictionary<string, string?> Budget(int limit) => new()
        {
            ["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Provisioning:Acme:RateLimits:RegisteredDomainWindow"] = "3.00:00:00",
        };
        var host = StartHost(Budget(3), directory: proxy.Directory, dataDirectory: data);
        var devices = new List<CreatedDevice>();
        for (var i = 0; i < 5; i++)
        {
            devices.Add(await host.CreateDeviceAsync());
        }

        using var client = host.Device();
        var first = new List<ProvisionResponse>();
        foreach (var device in devices.Take(3))
        {
            first.Add(await ProvisionAsync(client, ProvisioningHostFactory.Register(device)));
        }

        // The fourth and fifth new certificates are not ordered: 202 queued, in order, with the refill schedule (3 days / 3 = one a day).
        var ordersBefore = proxy.NewOrders.Count;
        var queued = new List<JsonElement>();
        foreach (var device in devices.Skip(3))
        {
            var response = await client.SendAsync(ProvisioningHostFactory.Register(device));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("queued", body.GetProperty("status").GetString());
            Assert.Equal(body.GetProperty("retryAfterSeconds").GetInt32(), (int)response.Headers.RetryAfter!.Delta!.Value.TotalSeconds);
            queued.Add(body);
        }

        Assert.Equal([1, 2], queued.Select(q => q.GetProperty("queuePosition").GetInt32()));
        var etas = queued.Select(q => q.GetProperty("estimatedAt").GetDateTimeOffset()).ToList();
        Assert.InRange(etas[0] - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromDays(1));
        Assert.InRange(etas[1] - etas[0], TimeSpan.FromHours(23.9), TimeSpan.FromHours(24.1));
        Assert.InRange(queued[0].GetProperty("retryAfterSeconds").GetInt32(), 23 * 3600, 24 * 3600);
        Assert.Equal(ordersBefore, proxy.NewOrders.Count);

        // Asking again keeps the place; a device that holds its certificate is served at once.
        var again1 = await (await client.SendAsync(ProvisioningHostFactory.Register(devices[4]))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, again1.GetProperty("queuePosition").GetInt32());
        Assert.Equal(first[0].Certificate, (await ProvisionAsync(client, ProvisioningHostFactory.Register(devices[0]))).Certificate);

        using (var admin = host.Admin())
        {
            var budget = await admin.GetFromJsonAsync<JsonElement>("/api/admin/acme/budget");
            var domain = Assert.Single(budget.GetProperty("domains").EnumerateArray().ToList());
            Assert.Equal("example.test", domain.GetProperty("registeredDomain").GetString());
            Assert.Equal(3, domain.GetProperty("limit").GetInt32());
            Assert.Equal(3, domain.GetProperty("used").GetInt32());
            Assert.Equal(3 * 86_400, domain.GetProperty("windowSeconds").GetInt64());
            Assert.InRange(domain.GetProperty("nextSlotAt").GetDateTimeOffset() - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromDays(1));
            Assert.Equal(2, budget.GetProperty("queue").GetProperty("depth").GetInt32());
            Assert.Equal(etas[1], budget.GetProperty("queue").GetProperty("drainsAt").GetDateTimeOffset(), TimeSpan.FromSeconds(5));
            Assert.Equal(0, budget.GetProperty("renewals").GetProperty("dueThisWeek").GetInt32()); // three fresh certificates
        }

        // The same figures as metrics, once the acme-budget job (one instance, every minute) has read them.
        var job = host.Services.GetServices<IProvisioningJob>().Single(j => j.Name == "acme-budget");
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await job.RunAsync(scope.ServiceProvider, TestContext.Current.CancellationToken);
        }

        var factory = host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var values = new Dictionary<string, double>();
        using (var listener = new System.Diagnostics.Metrics.MeterListener())
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Sndctl.Provisioning.Acme" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => values[instrument.Name] = value);
            listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => values[instrument.Name] = value);
            listener.Start();
            listener.RecordObservableInstruments();
        }

        Assert.Equal(3, values["sndctl.acme.budget.used"]);
        Assert.Equal(3, values["sndctl.acme.budget.limit"]);
        Assert.Equal(2, values["sndctl.acme.queue.depth"]);
        Assert.InRange(values["sndctl.acme.queue.drain_time"], 47 * 3600, 48 * 3600);
        Assert.Equal(0, values["sndctl.acme.renewals.due_week"]);

        // The CA granted an override: restarted with a larger budget, the queue drains in the background (the
        // queued-issuance job, one instance, every minute) and each queued device's next call is the fast path.
        await host.DisposeAsync();
        Hosts.Remove(host);
        var raised = StartHost(Budget(10), WithoutJobRunner, directory: proxy.Directory, dataDirectory: data);
        using var after = raised.Device();
        var ordersAtRestart = proxy.NewOrders.Count;
        var drain = raised.Services.GetServices<IProvisioningJob>().Single(j => j.Name == "queued-issuance");
        await using (var scope = raised.Services.CreateAsyncScope())
        {
            await drain.RunAsync(scope.ServiceProvider, TestContext.Current.CancellationToken);
        }

        Assert.Equal(ordersAtRestart + 2, proxy.NewOrders.Count);
        foreach (var device in devices.Skip(3))
        {
            var served = await after.SendAsync(ProvisioningHostFactory.Register(device));
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            await AssertValidForAsync((await served.Content.ReadFromJsonAsync<ProvisionResponse>())!, device.Hostname);
        }

        Assert.Equal(ordersAtRestart + 2, proxy.NewOrders.Count); // served from the store, no order at the call

        using var raisedAdmin = raised.Admin();
        Assert.Equal(0, (await raisedAdmin.GetFromJsonAsync<JsonElement>("/api/admin/acme/budget")).GetProperty("queue").GetProperty("depth").GetInt32());
    }

    [Fact]
    public async Task A_CA_that_says_rateLimited_before_the_count_expected_empties_the_budget_until_its_Retry_After()
    {
        var proxy = await StartProxyAsync();
        proxy.RateLimitNextOrders = 1;
        proxy.RateLimitRetryAfter = TimeSpan.FromHours(5);
        proxy.RateLimitDetail = "too many certificates (50) already issued for \"example.test\" in the last 168h0m0s: see https://letsencrypt.org/docs/rate-limits/#new-certificates-per-registered-domain";
        var host = StartHost(directory: proxy.Directory);
        var first = await host.CreateDeviceAsync();
        var second = await host.CreateDeviceAsync();
        using var client = host.Device();

        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(first)), 503);

        using var admin = host.Admin();
        var domain = (await admin.GetFromJsonAsync<JsonElement>("/api/admin/acme/budget")).GetProperty("domains")[0];
        Assert.Equal(50, domain.GetProperty("used").GetInt32());
        Assert.InRange(domain.GetProperty("nextSlotAt").GetDateTimeOffset() - DateTimeOffset.UtcNow, TimeSpan.FromHours(4.9), TimeSpan.FromHours(5));

        // Other new devices wait in the budget's queue, without another order at the CA; their turn comes after the CA's Retry-After.
        var orders = proxy.NewOrders.Count;
        var waiting = await client.SendAsync(ProvisioningHostFactory.Register(second));
        Assert.Equal(HttpStatusCode.Accepted, waiting.StatusCode);
        var body = await waiting.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("queued", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("estimatedAt").GetDateTimeOffset() >= DateTimeOffset.UtcNow.AddHours(4.9));
        Assert.Equal(orders, proxy.NewOrders.Count);
    }

    [Fact]
    public async Task The_budget_endpoint_is_for_admins_and_says_when_the_issuer_has_none()
    {
        var acme = StartHost();
        using (var anonymous = acme.Device())
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/admin/acme/budget")).StatusCode);
        }

        var privateCa = new ProvisioningHostFactory();
        Hosts.Add(privateCa);
        using var admin = privateCa.Admin();
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/admin/acme/budget"), 404);
    }

    /// <summary>
    /// For tests that run a job by hand after moving the clock: the host's own job runner (on the same fake clock)
    /// would run it at the same moment, and the hand-run one would find its slot taken and stop early.
    /// </summary>
    private static void WithoutJobRunner(IServiceCollection services)
    {
        foreach (var runner in services.Where(d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService) && d.ImplementationType?.Name == "JobRunner").ToList())
        {
            services.Remove(runner);
        }
    }
}
