using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The reference host in ACME mode (DNS-01 through the Cloudflare API stand-in, a Pebble with its
/// validator's random delays on) killed with SIGKILL while 30 devices' orders are in flight, some of
/// them already issued by the CA and not yet downloaded, then restarted: nothing is stranded, no
/// certificate the CA issued is lost or issued twice, and no challenge record stays in the zone.
/// </summary>
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    private const string AdminKey = "crash-admin-key-of-at-least-32-characters";
    private const string CloudflareToken = "cf-token-for-the-crash-test-0123456789";
    private const int Devices = 30;
    private readonly AcmeLab _lab = AcmeLab.Require();
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-crash-").FullName;
    private readonly List<Process> _pebbles = [];
    private readonly List<HostProcess> _hosts = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        foreach (var process in _pebbles)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task A_host_killed_mid_issuance_serves_every_device_one_certificate_after_restart_and_leaves_no_TXT_record()
    {
        var pebble = StartSlowPebble();
        await using var proxy = await AcmeProxy.StartAsync(_lab, pebble);
        await using var cloudflare = await FakeCloudflare.StartAsync();
        cloudflare.ChallTestSrv = _lab.ChallTestSrv; // Records placed through the API land in Pebble's DNS.
        cloudflare.Tokens[CloudflareToken] = (["zone:read", "dns:edit"], "active");
        cloudflare.AddZone("example.test");
        var url = $"http://127.0.0.1:{Ports.Free()}";
        var host = StartHost(url, proxy, cloudflare);
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
        await host.WaitReadyAsync();
        var devices = new List<CreatedDevice>();
        using (var admin = host.CreateClient(AdminKey))
        {
            for (var i = 0; i < Devices; i++)
            {
                devices.Add((await (await admin.PostAsJsonAsync("/api/admin/devices", new { })).Content.ReadFromJsonAsync<CreatedDevice>())!);
            }
        }

        // 30 first registrations; the CA issues some certificates, but their download waits: those orders
        // are complete at the CA and known to nobody but the dead process's journal.
        proxy.HoldDownloads = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = devices.Select(d => http.SendAsync(ProvisioningHostFactory.Register(d))).ToList();
        // Killed when the CA has issued some (their downloads held) and others are mid-challenge (TXT records up).
        await WaitForAsync(() => proxy.Finalized.Count >= 4 && cloudflare.Records.Count >= 3, TimeSpan.FromSeconds(60), "the CA to issue some certificates while others are mid-challenge");
        host.Kill();
        await host.Process.WaitForExitAsync();
        await Task.WhenAll(calls.Select(c => c.ContinueWith(_ => { }, TaskScheduler.Default)));
        var issuedBeforeKill = proxy.Finalized.Count;
        var leftInZone = cloudflare.Records.Values.Select(r => r.Name).ToHashSet();
        var ordersBeforeKill = proxy.NewOrders.Count;
        Assert.InRange(issuedBeforeKill, 4, Devices - 1); // some issued, some still validating (the test's premise)
        Assert.NotEmpty(leftInZone);
        proxy.HoldDownloads.SetResult();
        proxy.HoldDownloads = null;

        // The same instance restarted (same InstanceId): it takes over its dead process's leases at once.
        var restarted = StartHost(url, proxy, cloudflare);
        await restarted.WaitReadyAsync();
        var deadline = Stopwatch.StartNew();
        var certificates = new Dictionary<string, ProvisionResponse>();
        while (certificates.Count < Devices)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"{Devices - certificates.Count} devices still have no certificate 60 s after the restart.");
            var waiting = devices.Where(d => !certificates.ContainsKey(d.DeviceId)).ToList();
            var answers = await Task.WhenAll(waiting.Select(d => http.SendAsync(ProvisioningHostFactory.Register(d))));
            foreach (var (device, answer) in waiting.Zip(answers))
            {
                Assert.True((int)answer.StatusCode < 500 || answer.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
                if (answer.StatusCode == HttpStatusCode.OK)
                {
                    certificates[device.DeviceId] = (await answer.Content.ReadFromJsonAsync<ProvisionResponse>())!;
                }
            }

            await Task.Delay(500);
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"Killed with {issuedBeforeKill} certificates issued by the CA (downloads held), {ordersBeforeKill} orders placed, {leftInZone.Count} TXT records in the zone; " +
            $"all {Devices} devices served {deadline.Elapsed.TotalSeconds:0.0} s after the restart was ready; {proxy.NewOrders.Count} orders in all.");

        // Exactly one certificate per device: the CA issued one per name (an order it had completed was
        // downloaded, not ordered again), and the device holds that one.
        Assert.All(devices, d => Assert.Equal(1, proxy.Finalized.GetValueOrDefault(d.Hostname)));
        using var admin2 = restarted.CreateClient(AdminKey);
        foreach (var device in devices)
        {
            var details = await admin2.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
            Assert.Equal(1, details.GetProperty("certificates").GetArrayLength());
        }

        // Orders the dead process had placed were resumed, not placed again (only one whose order URL it had
        // not yet written down could be ordered twice: at most a handful).
        var orders = proxy.NewOrders.Select(o => o["identifiers"]![0]!["value"]!.GetValue<string>()).GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(orders.Values.Count(c => c > 1) <= 3, $"{orders.Values.Count(c => c > 1)} devices were ordered twice ({ordersBeforeKill} orders before the kill).");

        // No challenge record left, and what was removed on the dead process's behalf is on record.
        await WaitForAsync(() => cloudflare.Records.IsEmpty, TimeSpan.FromSeconds(Math.Max(1, 60 - deadline.Elapsed.TotalSeconds)), "the zone to be clean");
        var events = await admin2.GetFromJsonAsync<JsonElement>("/api/admin/events?pageSize=500");
        var removed = events.GetProperty("items").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == AuditEventTypes.DnsRecordRemoved)
            .Select(e => e.GetProperty("details").GetString()!)
            .ToList();
        Assert.All(leftInZone, name => Assert.Contains(removed, d => d.Contains("Removed TXT " + name, StringComparison.Ordinal)));
    }

    private HostProcess StartHost(string url, AcmeProxy proxy, FakeCloudflare cloudflare)
    {
        var host = HostProcess.Start(new Dictionary<string, string?>
        {
            ["Provisioning__DataDirectory"] = Path.Combine(_work, "data"),
            ["Provisioning__InstanceId"] = "host-1",
            ["Provisioning__BaseDomain"] = "devices.example.test",
            ["Provisioning__Admin__ApiKeys__0"] = AdminKey,
            ["Provisioning__Issuer"] = "Acme",
            ["Provisioning__Acme__DirectoryUrl"] = proxy.Directory.AbsoluteUri,
            ["Provisioning__Acme__AcceptTermsOfService"] = "true",
            ["Provisioning__Acme__Email"] = "ops@example.test",
            ["Provisioning__Acme__TrustedRootFile"] = _lab.TlsRootFile,
            ["Provisioning__Acme__PropagationNameservers__0"] = _lab.ChallTestSrvDns,
            ["Provisioning__Dns__Provider"] = "Cloudflare",
            ["Provisioning__Dns__Cloudflare__ApiToken"] = CloudflareToken,
            ["Provisioning__Dns__Cloudflare__BaseUrl"] = cloudflare.BaseUrl.AbsoluteUri,
        }, url);
        _hosts.Add(host);
        return host;
    }

    /// <summary>A Pebble of its own with the validator's random 0–4 s sleeps on, fronted by the proxy; its DNS is the lab's challtestsrv.</summary>
    private Uri StartSlowPebble()
    {
        var (process, directory) = _lab.StartPebble(_lab.ChallTestSrvDns, validatorSleeps: true);
        _pebbles.Add(process);
        return directory;
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < timeout, $"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }
}
