using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// A launch-day storm, bounded: a few hundred devices that never registered, first registrations
/// over 16 connections at once (real HTTP over loopback, the SQLite file with its write gate), each
/// device asked twice in the storm. Every device ends with exactly one certificate; nothing is 5xx.
/// The figures are benchmarks/storm.sh's business; this holds the correctness.
/// </summary>
public sealed class StormTests : IAsyncLifetime
{
    private const int Devices = 300;
    private const int Connections = 16;
    private readonly ProvisioningHostFactory _host = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _host.DeleteData();
    }

    [Fact]
    public async Task A_storm_of_first_registrations_gives_every_device_exactly_one_certificate_and_no_5xx()
    {
        using var admin = _host.Admin();
        var batch = await (await admin.PostAsJsonAsync("/api/admin/devices/batch", new { count = Devices })).Content.ReadFromJsonAsync<JsonElement>();
        var devices = batch.GetProperty("devices").EnumerateArray()
            .Select(d => new CreatedDevice(d.GetProperty("deviceId").GetString()!, d.GetProperty("secret").GetString()!, d.GetProperty("hostname").GetString()!, "pending", DateTimeOffset.UtcNow))
            .ToList();

        // Each device twice, the second call often while its first issuance still runs.
        var work = new ConcurrentQueue<CreatedDevice>(devices.Concat(devices.AsEnumerable().Reverse()));
        var served = new ConcurrentDictionary<string, ConcurrentBag<string>>();
        var failures = new ConcurrentQueue<string>();
        using var client = _host.Device();
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async _ =>
        {
            while (work.TryDequeue(out var device))
            {
                var response = await client.SendAsync(ProvisioningHostFactory.Register(device));
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"{device.DeviceId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    continue;
                }

                var body = (await response.Content.ReadFromJsonAsync<ProvisionResponse>())!;
                served.GetOrAdd(device.DeviceId, _ => []).Add(body.Certificate);
            }
        }));

        Assert.Empty(failures);
        Assert.Equal(Devices, served.Count);
        Assert.All(served.Values, certificates => Assert.Single(certificates.Distinct()));
        var listed = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices?pageSize={Devices}");
        Assert.Equal(Devices, listed.GetProperty("total").GetInt32());
        Assert.All(listed.GetProperty("items").EnumerateArray(), d => Assert.Equal("active", d.GetProperty("status").GetString()));
        var issued = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/events?pageSize=500");
        var issuedPerDevice = issued.GetProperty("items").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "certificate.issued")
            .GroupBy(e => e.GetProperty("deviceId").GetString())
            .ToList();
        Assert.Equal(Devices, issuedPerDevice.Count);
        Assert.All(issuedPerDevice, g => Assert.Single(g));
    }
}
