using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>The root key kept offline (an admin command), and admin endpoints closed by default in an embedding app.</summary>
public sealed class OfflineRootAndEmbeddingTests : IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-root-").FullName;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_work, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task The_root_key_exported_and_removed_by_the_admin_command_leaves_the_intermediates_issuing()
    {
        var data = Path.Combine(_work, "data");
        var environment = new Dictionary<string, string?> { ["Provisioning__DataDirectory"] = data };
        // Encrypted unless said otherwise: neither a passphrase nor --unencrypted is a usage error, and nothing is written.
        var neither = await Host(["ca", "export-root-key", "--out", "root.key"], environment);
        Assert.Equal(2, neither.ExitCode);
        Assert.Contains("--passphrase-file", neither.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_work, "root.key")));

        await File.WriteAllTextAsync(Path.Combine(_work, "passphrase"), "correct horse battery staple\n");
        var export = await Host(["ca", "export-root-key", "--out", "root.key", "--passphrase-file", "passphrase", "--remove"], environment);
        Assert.True(export.ExitCode == 0, export.Output + export.Error);
        Assert.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", await File.ReadAllTextAsync(Path.Combine(_work, "root.key")), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_work, "root.key")));
        }

        var again = await Host(["ca", "export-root-key", "--out", "again.key", "--unencrypted"], environment);
        Assert.Equal(3, again.ExitCode);
        Assert.Contains("removed from the database already", again.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await Host(["ca", "something"], environment)).ExitCode);

        await using var host = new ProvisioningHostFactory(data);
        using var client = host.Device();
        await File.WriteAllTextAsync(Path.Combine(_work, "root.pem"), await client.GetStringAsync("/api/v1/ca/root.pem"));
        Assert.Equal(
            await ProcessRunner.OpenSslAsync(_work, "x509", "-in", "root.pem", "-noout", "-pubkey"),
            await ProcessRunner.OpenSslAsync(_work, "pkey", "-in", "root.key", "-passin", "file:passphrase", "-pubout"));

        var device = await host.CreateDeviceAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(device))).StatusCode);
        var csr = await (await client.PostAsJsonAsync("/api/v1/csr", new { content = PrivateCsrTests.Csr("192.168.3.3") })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("approved", csr.GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_app_embedding_the_packages_as_the_docs_show_serves_no_admin_endpoint_without_a_key()
    {
        const string AdminKey = "an-admin-key-of-at-least-32-characters-0123";
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddDbContext<EmbeddingDbContext>(o => o.UseSqlite($"Data Source={Path.Combine(_work, "app.db")}"));
        builder.Services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com")
            .UsePrivateCaIssuer(o => o.CertificateLifetime = TimeSpan.FromDays(30))
            .AddPrivateCsrService()
            .UseEntityFrameworkStores<EmbeddingDbContext>()
            .AddAspNetCore(o => o.AdminApiKeys.Add(AdminKey));

        await using var app = builder.Build();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<EmbeddingDbContext>().Database.EnsureCreatedAsync();
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapDeviceProvisioning();
        app.MapDeviceProvisioningAdmin();
        app.MapPrivateCa();
        app.MapPrivateCaAdmin(); // nothing added: closed by default
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
            foreach (var path in new[] { "/api/admin/csr", "/api/admin/devices", "/api/admin/events" })
            {
                await HttpAssert.ProblemAsync(await http.GetAsync(path), 401);
            }

            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/admin/csr")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/admin/devices")).StatusCode);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public void Mapping_the_CSR_admin_endpoints_without_admin_keys_fails_at_start_up()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddDbContext<EmbeddingDbContext>(o => o.UseSqlite("Data Source=:memory:"));
        builder.Services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com").UsePrivateCaIssuer().UseEntityFrameworkStores<EmbeddingDbContext>();
        var app = builder.Build();

        var refused = Assert.Throws<InvalidOperationException>(() => app.MapPrivateCaAdmin());
        Assert.Contains("AddAspNetCore", refused.Message, StringComparison.Ordinal);
        app.MapPrivateCaAdminWithoutAdminKeys(); // the loud opt-out exists
    }

    private Task<(int ExitCode, string Output, string Error)> Host(string[] arguments, IDictionary<string, string?> environment)
        => ProcessRunner.RunAsync("dotnet", [HostProcess.HostDll, .. arguments], _work, environment, timeout: TimeSpan.FromMinutes(2));

    private sealed class EmbeddingDbContext(DbContextOptions<EmbeddingDbContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.UseDeviceProvisioning();
            base.OnModelCreating(modelBuilder);
        }
    }
}
