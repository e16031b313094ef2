using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The reference host on real Kestrel at 127.0.0.1 (random port), with its own data directory, a
/// controllable clock, and every log line kept so tests can check what was (not) logged.
/// </summary>
public sealed class ProvisioningHostFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public ProvisioningHostFactory(string? dataDirectory = null, IDictionary<string, string?>? settings = null)
    {
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "sndctl-it-" + Guid.NewGuid().ToString("N"));
        _settings = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["Provisioning:DataDirectory"] = DataDirectory,
            ["urls"] = "http://127.0.0.1:0",
        };
        UseKestrel(0);
    }

    public string DataDirectory { get; }

    /// <summary>
    /// A started host for tests that post many private-IP CSRs from one address (the per-address and
    /// per-network limits lifted; a setting given as null is left at its default), and its base URL.
    /// </summary>
    public static (ProvisioningHostFactory Host, string BaseUrl) StartForCsr(IDictionary<string, string?>? settings = null, string? dataDirectory = null)
    {
        var all = new Dictionary<string, string?> { ["Provisioning:PrivateCa:PostsPerMinute"] = "0", ["Provisioning:PrivateCa:NetworkPostsPerMinute"] = "0" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var host = new ProvisioningHostFactory(dataDirectory, all.Where(p => p.Value is not null).ToDictionary());
        using var client = host.Device();
        return (host, client.BaseAddress!.AbsoluteUri);
    }

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    private readonly CapturedLogs _logs = new();

    /// <summary>Every log line so far, structured values included (FakeLogger).</summary>
    public IReadOnlyList<string> Logs => _logs.Lines;

    /// <summary>Extra service changes applied after the host's own (swap a DNS provider, say).</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    public string AdminKey => File.ReadAllText(Path.Combine(DataDirectory, "admin-api-key")).Trim();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(_logs.Provider()).SetMinimumLevel(LogLevel.Trace));
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Time);
            TestServices?.Invoke(services);
        });
    }

    public HttpClient Device()
    {
        StartServer();
        return CreateClient();
    }

    public HttpClient Admin()
    {
        var client = Device();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    public async Task<CreatedDevice> CreateDeviceAsync(string? deviceId = null)
    {
        using var admin = Admin();
        var response = await admin.PostAsJsonAsync<object>("/api/admin/devices", deviceId is null ? new { } : new { deviceId });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<CreatedDevice>())!;
    }

    public static HttpRequestMessage Register(CreatedDevice device, string? secret = null, string? csr = null)
        => Post("/api/register", secret ?? device.Secret, new { deviceId = device.DeviceId, csr });

    public static HttpRequestMessage Renew(CreatedDevice device, string? hostname = null, string? csr = null)
        => Post("/api/renew", device.Secret, new { deviceId = device.DeviceId, hostname = hostname ?? device.Hostname, csr });

    public static HttpRequestMessage Post(string path, string? secret, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (secret is not null)
        {
            request.Headers.Add("X-Device-Secret", secret);
        }

        return request;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    public void DeleteData()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}

public sealed record CreatedDevice(string DeviceId, string Secret, string Hostname, string Status, DateTimeOffset CreatedAt);

public sealed record ProvisionResponse(string DeviceId, string Hostname, string Certificate, string? PrivateKey, DateTimeOffset NotBefore, DateTimeOffset NotAfter, DateTimeOffset RenewAfter);

public static class HttpAssert
{
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, int status)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        return problem;
    }
}
