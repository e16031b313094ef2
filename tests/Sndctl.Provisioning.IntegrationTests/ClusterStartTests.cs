using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Npgsql;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// Three reference-host processes started at the same moment on one empty PostgreSQL database: the
/// migrations are serialized (advisory lock), every instance comes up healthy, and they agree.
/// </summary>
public sealed class ClusterStartTests : IAsyncLifetime
{
    private const string AdminKey = "cluster-admin-key-of-at-least-32-characters";
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-cluster-").FullName;
    private readonly List<Process> _processes = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }

            process.Dispose();
        }

        Directory.Delete(_work, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Three_instances_starting_together_on_an_empty_database_all_come_up_and_agree()
    {
        var server = Environment.GetEnvironmentVariable("SNDCTL_TEST_POSTGRES");
        if (string.IsNullOrEmpty(server))
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "SNDCTL_TEST_POSTGRES is not set: run tests/run.sh.");
            Assert.Skip("SNDCTL_TEST_POSTGRES is not set; tests/run.sh starts PostgreSQL.");
        }

        var database = $"sndctl_cluster_{Guid.NewGuid():N}";
        // One data directory for all (a shared volume): the first start makes the key-ring certificate
        // there, and the others must read the whole of it, never a half-written file.
        var data = Path.Combine(_work, "data");
        try
        {
            var urls = Enumerable.Range(0, 3).Select(_ => $"http://127.0.0.1:{FreePort()}").ToList();
            foreach (var url in urls)
            {
                _processes.Add(Start(url, data, new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString));
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            foreach (var url in urls)
            {
                await WaitHealthyAsync(http, url);
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
            foreach (var process in _processes.Where(p => !p.HasExited))
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(server);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static Process Start(string url, string dataDirectory, string connectionString)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Sndctl.Provisioning.Host.dll"), "--urls", url])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Provisioning__DataDirectory"] = dataDirectory;
        start.Environment["Provisioning__Storage__Provider"] = "PostgreSql";
        start.Environment["ConnectionStrings__Provisioning"] = connectionString;
        start.Environment["Provisioning__Admin__ApiKeys__0"] = AdminKey;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitHealthyAsync(HttpClient http, string url)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            Assert.True(_processes.All(p => !p.HasExited), "an instance exited during start-up");
            try
            {
                if ((await http.GetAsync(url + "/api/health")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, $"{url} did not become healthy");
            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
