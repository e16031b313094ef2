using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Npgsql;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// Three reference-host processes on one PostgreSQL database: started at the same moment on an empty
/// one, the migrations are serialized (advisory lock), every instance comes up healthy, and they agree;
/// a burst survives one of them being killed, limits are counted across them, and periodic jobs move
/// to the survivors.
/// </summary>
public sealed class ClusterStartTests : IAsyncLifetime
{
    private const string AdminKey = "cluster-admin-key-of-at-least-32-characters";
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-cluster-").FullName;
    private readonly List<HostProcess> _processes = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        if (Environment.GetEnvironmentVariable("SNDCTL_KEEP_TEST_FILES") != "1")
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Fact]
    public async Task Three_instances_starting_together_on_an_empty_database_all_come_up_and_agree()
    {
        var server = TestPostgres.Server();

        var database = $"sndctl_cluster_{Guid.NewGuid():N}";
        // One data directory for all (a shared volume): the first start makes the key-ring certificate
        // there, and the others must read the whole of it, never a half-written file.
        var data = Path.Combine(_work, "data");
        try
        {
            var urls = Enumerable.Range(0, 3).Select(_ => $"http://127.0.0.1:{Ports.Free()}").ToList();
            foreach (var url in urls)
            {
                _processes.Add(Start(url, data, new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString));
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            foreach (var process in _processes)
            {
                await process.WaitReadyAsync("/api/health");
            }

            // One certificate, whichever instance is asked.
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
            var device = (await (await http.PostAsJsonAsync(urls[0] + "/api/admin/devices", new { })).Content.ReadFromJsonAsync<CreatedDevice>())!;
            var certificates = new HashSet<string>();
            foreach (var url in urls)
            {
                using var request = ProvisioningHostFactory.Register(device);
                request.RequestUri = new Uri(url + "/api/register");
                var response = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                certificates.Add((await response.Content.ReadFromJsonAsync<ProvisionResponse>())!.Certificate);
            }

            Assert.Single(certificates);
            Assert.All(_processes, p => Assert.False(p.HasExited));
        }
        finally
        {
            foreach (var process in _processes)
            {
                process.Kill();
                await process.Process.WaitForExitAsync();
            }

            await TestPostgres.DropAsync(server, database);
        }
    }

    [Fact]
    public async Task A_cluster_serves_a_burst_through_a_killed_instance_counts_CSR_limits_together_and_moves_jobs_to_survivors()
    {
        var server = TestPostgres.Server();

        var database = $"sndctl_cluster_{Guid.NewGuid():N}";
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
        var data = Path.Combine(_work, "data");
        string[] names = ["host-a", "host-b", "host-c"];
        try
        {
            var urls = names.Select(_ => $"http://127.0.0.1:{Ports.Free()}").ToArray();
            var hosts = names.Select((name, i) => Start(urls[i], data, connectionString, name)).ToArray();
            _processes.AddRange(hosts);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            foreach (var host in hosts)
            {
                await host.WaitReadyAsync("/api/health");
            }

            using var admin = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
            var batch = await (await admin.PostAsJsonAsync(urls[0] + "/api/admin/devices/batch", new { count = 60 })).Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
            var devices = batch.GetProperty("devices").EnumerateArray()
                .Select(d => new CreatedDevice(d.GetProperty("deviceId").GetString()!, d.GetProperty("secret").GetString()!, d.GetProperty("hostname").GetString()!, "pending", DateTimeOffset.UtcNow))
                .ToList();

            // 60 devices × 4 concurrent first registrations spread over the instances; the third is killed
            // mid-burst. A call that meets the dead instance goes to the next one, as a device retries.
            var served = new System.Collections.Concurrent.ConcurrentDictionary<string, System.Collections.Concurrent.ConcurrentBag<string>>();
            var answered = 0;
            var burstTime = Stopwatch.StartNew();
            async Task CallAsync(CreatedDevice device, int first)
            {
                for (var attempt = 0; ; attempt++)
                {
                    var url = urls[(first + attempt) % urls.Length];
                    try
                    {
                        using var request = ProvisioningHostFactory.Register(device);
                        request.RequestUri = new Uri(url + "/api/register");
                        var response = await http.SendAsync(request);
                        Assert.True((int)response.StatusCode < 500 || response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                        if (response.StatusCode == HttpStatusCode.OK)
                        {
                            served.GetOrAdd(device.DeviceId, _ => []).Add((await response.Content.ReadFromJsonAsync<ProvisionResponse>())!.Certificate);
                            Interlocked.Increment(ref answered);
                            return;
                        }

                        await Task.Delay(200); // 202 or 503: the device waits and calls again
                    }
                    catch (HttpRequestException)
                    {
                        // The instance is gone: the next one.
                    }

                    Assert.True(burstTime.Elapsed < TimeSpan.FromSeconds(60), $"device {device.DeviceId} was not served within 60 s");
                }
            }

            var burst = Task.WhenAll(devices.SelectMany((d, i) => Enumerable.Range(0, 4).Select(j => CallAsync(d, i + j))));
            var killedAt = Stopwatch.StartNew();
            while (Volatile.Read(ref answered) < 60 && killedAt.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(5);
            }

            hosts[2].Kill(); // SIGKILL, mid-burst
            await burst;

            Assert.Equal(60, served.Count);
            Assert.All(served.Values, certificates => Assert.Single(certificates.Distinct()));

            // The killed instance restarts under its own name and agrees with the others.
            hosts[2] = Start(urls[2], data, connectionString, names[2]);
            _processes.Add(hosts[2]);
            await hosts[2].WaitReadyAsync("/api/health");
            foreach (var device in devices)
            {
                using var request = ProvisioningHostFactory.Register(device);
                request.RequestUri = new Uri(urls[2] + "/api/register");
                var response = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(served[device.DeviceId].First(), (await response.Content.ReadFromJsonAsync<ProvisionResponse>())!.Certificate);
            }

            foreach (var device in devices.Take(5))
            {
                var history = await admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"{urls[1]}/api/admin/devices/{device.DeviceId}");
                Assert.Equal(1, history.GetProperty("certificates").GetArrayLength());
            }

            // The CSR service's posts per minute per address are counted in the database: a second POST
            // from the same address to another instance within the minute is refused.
            Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsJsonAsync(urls[0] + "/api/v1/csr", new { content = PrivateCsrTests.Csr("192.168.1.20") })).StatusCode);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await http.PostAsJsonAsync(urls[1] + "/api/v1/csr", new { content = PrivateCsrTests.Csr("192.168.1.21") })).StatusCode);

            // A periodic job (the DNS janitor, every 20 s) moves to a survivor when its leader dies.
            var leader = await WaitForJobLeaderAsync(connectionString, "job:dns-janitor", _ => true);
            var leaderIndex = Array.FindIndex(names, n => leader.StartsWith(n + "#", StringComparison.Ordinal));
            Assert.True(leaderIndex >= 0, $"unexpected holder {leader}");
            hosts[leaderIndex].Kill();
            var successor = await WaitForJobLeaderAsync(connectionString, "job:dns-janitor", holder => !holder.StartsWith(names[leaderIndex] + "#", StringComparison.Ordinal));
            Assert.Contains(names.Where((_, i) => i != leaderIndex), n => successor.StartsWith(n + "#", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var process in _processes)
            {
                process.Kill();
                await process.Process.WaitForExitAsync();
            }

            await TestPostgres.DropAsync(server, database);
        }
    }

    /// <summary>The live holder of a job's lease that <paramref name="accept"/> accepts, read from the database (up to 90 s).</summary>
    private static async Task<string> WaitForJobLeaderAsync(string connectionString, string key, Func<string, bool> accept)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var query = new NpgsqlCommand("""SELECT "Holder" FROM "ProvisioningIssuanceLeases" WHERE "DeviceId" = @key AND "ExpiresAt" > now()""", connection);
                query.Parameters.AddWithValue("key", key);
                if (await query.ExecuteScalarAsync() is string holder && accept(holder))
                {
                    return holder;
                }
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90), $"no instance took {key}");
            await Task.Delay(500);
        }
    }

    private static HostProcess Start(string url, string dataDirectory, string connectionString, string? instanceId = null)
        => HostProcess.Start(new Dictionary<string, string?>
        {
            ["Provisioning__DataDirectory"] = dataDirectory,
            ["Provisioning__Storage__Provider"] = "PostgreSql",
            ["ConnectionStrings__Provisioning"] = connectionString,
            ["Provisioning__Admin__ApiKeys__0"] = AdminKey,
            ["Provisioning__InstanceId"] = instanceId,

            // A device whose issuance the killed instance held waits for its lease: 10 s here, not 30.
            ["Provisioning__IssuanceLeaseDuration"] = instanceId is null ? null : "00:00:10",
        }, url);
}
