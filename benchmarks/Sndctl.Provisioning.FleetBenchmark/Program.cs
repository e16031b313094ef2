// Fleet benchmark: N devices register at once through the reference host (in this process, real
// Kestrel on loopback) in ACME mode against the local Pebble lab that benchmarks/fleet.sh starts.
// Reports certificates/s, p50/p99 time to certificate, the time of one issuance alone, the host's
// CPU per certificate, and where issuance time went (from the Sndctl.Provisioning.Acme meter).
// Usage: dotnet Sndctl.Provisioning.FleetBenchmark.dll 100 500
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

internal static class FleetBenchmark
{
    public static async Task Main(string[] args)
    {
        var sizes = args.Length > 0 ? args.Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray() : [100, 500];
        string Env(string name) => Environment.GetEnvironmentVariable(name) ?? throw new InvalidOperationException($"{name} is not set: run benchmarks/fleet.sh.");

        var meters = new AcmeTimeMeter();
        Console.WriteLine($"| devices | certificates/s | p50 | p99 | max | host CPU per certificate | own code share of issuance time |");
        Console.WriteLine($"| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var single = new List<double>();
        foreach (var size in sizes)
        {
            await using var host = new FleetHost(new Dictionary<string, string?>
            {
                ["Provisioning:BaseDomain"] = $"fleet{size}.example.test",
                ["Provisioning:Issuer"] = "Acme",
                ["Provisioning:Acme:DirectoryUrl"] = Env("SNDCTL_TEST_PEBBLE_DIRECTORY"),
                ["Provisioning:Acme:AcceptTermsOfService"] = "true",
                ["Provisioning:Acme:TrustedRootFile"] = Env("SNDCTL_TEST_PEBBLE_TLS_ROOT"),
                ["Provisioning:Acme:PropagationNameservers:0"] = Env("SNDCTL_TEST_CHALLTESTSRV_DNS"),
                ["Provisioning:Dns:Provider"] = "ChallTestSrv",
                ["Provisioning:Dns:ChallTestSrv:ManagementUrl"] = Env("SNDCTL_TEST_CHALLTESTSRV"),
                ["Provisioning:IssuanceWaitBudget"] = "00:02:00",
                ["Provisioning:Acme:RateLimits:CertificatesPerRegisteredDomain"] = "0", // Pebble has no budget; the fleet is larger than Let's Encrypt's 50
                ["Provisioning:Acme:RateLimits:NewOrdersPerAccount"] = "0",
            });
            using var client = host.CreateClient();
            client.Timeout = TimeSpan.FromMinutes(5);
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", host.AdminKey);
            var batch = await client.PostAsJsonAsync("/api/admin/devices/batch", new { count = size + 20 });
            batch.EnsureSuccessStatusCode();
            var devices = (await batch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("devices").EnumerateArray()
                .Select(d => (Id: d.GetProperty("deviceId").GetString()!, Secret: d.GetProperty("secret").GetString()!)).ToList();

            // Warm-up and single issuances: account registration, JIT, connections; then 20 devices one at a time.
            foreach (var device in devices.Take(20))
            {
                var started = Stopwatch.GetTimestamp();
                await RegisterAsync(client, device);
                single.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            var fleet = devices.Skip(20).ToList();
            meters.Reset();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            var latencies = await Task.WhenAll(fleet.Select(async device =>
            {
                var started = Stopwatch.GetTimestamp();
                await RegisterAsync(client, device);
                return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }));
            wall.Stop();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            Array.Sort(latencies);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {size} | {size / wall.Elapsed.TotalSeconds:0.0} | {Percentile(latencies, 50):0} ms | {Percentile(latencies, 99):0} ms | {latencies[^1]:0} ms | {cpu.TotalMilliseconds / size:0.0} ms | {meters.OwnShare():P1} |"));
            Console.Error.WriteLine(meters.Describe());
        }

        var first = single[0];
        single.Sort();
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Single issuance, one device at a time through the host ({single.Count} devices): median {Percentile([.. single], 50):0} ms, p90 {Percentile([.. single], 90):0} ms (the very first, with account registration: {first:0} ms)."));

        static double Percentile(double[] sorted, int p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];

        static async Task RegisterAsync(HttpClient client, (string Id, string Secret) device)
        {
            while (true)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/register") { Content = JsonContent.Create(new { deviceId = device.Id }) };
                request.Headers.Add("X-Device-Secret", device.Secret);
                using var response = await client.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                    continue;
                }

                throw new InvalidOperationException($"Device {device.Id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
    }
}

/// <summary>The reference host on Kestrel at 127.0.0.1 with its own data directory.</summary>
internal sealed class FleetHost : WebApplicationFactory<global::Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "sndctl-fleet-" + Guid.NewGuid().ToString("N"));

    public FleetHost(Dictionary<string, string?> settings)
    {
        _settings = settings;
        _settings["Provisioning:DataDirectory"] = _data;
        // Not a test project, so no content-root attribute: the host's appsettings.json is in our output.
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_SNDCTL_PROVISIONING_HOST", AppContext.BaseDirectory);
        UseKestrel(0);
    }

    public string AdminKey => File.ReadAllText(Path.Combine(_data, "admin-api-key")).Trim();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.UseSetting("urls", "http://127.0.0.1:0");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseEnvironment("Production");
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }
}

/// <summary>Sums the Sndctl.Provisioning.Acme histograms: where issuance time goes.</summary>
internal sealed class AcmeTimeMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, double> _sums = [];
    private readonly Lock _lock = new();

    public AcmeTimeMeter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Sndctl.Provisioning.Acme")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            lock (_lock)
            {
                _sums[instrument.Name] = _sums.GetValueOrDefault(instrument.Name) + value;
            }
        });
        _listener.Start();
    }

    public void Reset()
    {
        lock (_lock)
        {
            _sums.Clear();
        }
    }

    /// <summary>1 - (waiting on the CA, on DNS and between polls) / issuance time: what our own code took.</summary>
    public double OwnShare()
    {
        lock (_lock)
        {
            var issuance = _sums.GetValueOrDefault("sndctl.acme.issuance.duration");
            var waiting = _sums.GetValueOrDefault("sndctl.acme.request.duration") + _sums.GetValueOrDefault("sndctl.acme.poll.wait")
                + _sums.GetValueOrDefault("sndctl.acme.dns.provider.duration") + _sums.GetValueOrDefault("sndctl.acme.dns.propagation.duration");
            return issuance <= 0 ? double.NaN : Math.Max(0, 1 - (waiting / issuance));
        }
    }

    public string Describe()
    {
        lock (_lock)
        {
            return string.Join(", ", _sums.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key}={s.Value:0.00}s")));
        }
    }

    public void Dispose() => _listener.Dispose();
}
