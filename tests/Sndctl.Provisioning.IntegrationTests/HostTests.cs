using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Host;
using Sndctl.Provisioning.Host.Data;

namespace Sndctl.Provisioning.IntegrationTests;

public sealed class HostTests
{
    [Fact]
    public async Task Host_fresh_start_no_configuration_healthy_and_restart_keeps_data()
    {
        var first = new ProvisioningHostFactory();
        string adminKey;
        CreatedDevice device;
        ProvisionResponse issued;
        string root;
        try
        {
            using (var client = first.Device())
            {
                var health = await client.GetAsync("/api/health");
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
                var body = await health.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal("Healthy", body.GetProperty("status").GetString());
                Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
                root = await client.GetStringAsync("/api/v1/ca/root.pem");
                device = await first.CreateDeviceAsync();
                issued = (await (await client.SendAsync(ProvisioningHostFactory.Register(device))).Content.ReadFromJsonAsync<ProvisionResponse>())!;
            }

            adminKey = first.AdminKey;
        }
        finally
        {
            await first.DisposeAsync();
        }

        var second = new ProvisioningHostFactory(first.DataDirectory);
        try
        {
            Assert.Equal(adminKey, second.AdminKey);
            using var client = second.Device();
            Assert.Equal(root, await client.GetStringAsync("/api/v1/ca/root.pem"));
            var again = (await (await client.SendAsync(ProvisioningHostFactory.Register(device))).Content.ReadFromJsonAsync<ProvisionResponse>())!;
            Assert.Equal(issued.Certificate, again.Certificate);
            Assert.Equal(issued.PrivateKey, again.PrivateKey);
        }
        finally
        {
            await second.DisposeAsync();
            second.DeleteData();
        }
    }

    [Fact]
    public async Task Private_keys_encrypted_at_rest_database_copy_alone_cannot_decrypt()
    {
        var host = new ProvisioningHostFactory();
        ProvisionResponse issued;
        try
        {
            var device = await host.CreateDeviceAsync();
            using var client = host.Device();
            issued = (await (await client.SendAsync(ProvisioningHostFactory.Register(device))).Content.ReadFromJsonAsync<ProvisionResponse>())!;
        }
        finally
        {
            await host.DisposeAsync();
        }

        var copy = Path.Combine(Path.GetTempPath(), "sndctl-copy-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            await CheckpointAndCopyAsync(Path.Combine(host.DataDirectory, "provisioning.db"), copy);
            var bytes = Encoding.Latin1.GetString(await File.ReadAllBytesAsync(copy));
            var keyBody = issued.PrivateKey!.Split('\n')[1];
            Assert.DoesNotContain(keyBody, bytes, StringComparison.Ordinal);
            Assert.DoesNotContain("PRIVATE KEY", bytes, StringComparison.Ordinal);
            Assert.Contains("encryptedSecret", bytes, StringComparison.Ordinal);

            // Without the key-ring certificate (kept outside the database) nothing decrypts...
            await using (var withoutCertificate = Services(copy, certificate: null))
            {
                var stored = await StoredKeyAsync(withoutCertificate);
                var protector = withoutCertificate.GetRequiredService<IDataProtectionProvider>().CreateProtector("Sndctl.Provisioning.DevicePrivateKey.v1");
                Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(stored));
            }

            // ...and with it, the same database gives the key back: the encryption is real, not loss.
            using var certificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(host.DataDirectory, "keyring-protection.pfx"), null);
            await using var withCertificate = Services(copy, certificate);
            var protectedKey = await StoredKeyAsync(withCertificate);
            var unprotected = withCertificate.GetRequiredService<IDataProtectionProvider>().CreateProtector("Sndctl.Provisioning.DevicePrivateKey.v1").Unprotect(protectedKey);
            Assert.Equal(issued.PrivateKey, unprotected);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(copy);
            host.DeleteData();
        }
    }

    [Fact]
    public async Task OpenAPI_document_lists_device_and_admin_endpoints()
    {
        await using var host = new ProvisioningHostFactory();
        using var client = host.Device();
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/api/v1/register", "/api/v1/renew", "/api/v1/addresses", "/api/v1/secret", "/api/health", "/api/admin/devices", "/api/admin/devices/batch", "/api/admin/devices/{deviceId}", "/api/v1/ca/root.pem" })
        {
            Assert.True(paths.TryGetProperty(path, out _), path);
        }

        // The unversioned device routes are aliases, kept for old firmware but not offered to generated clients.
        Assert.False(paths.TryGetProperty("/api/register", out _));

        // Security schemes, named on the operations that need them: a generated client authenticates.
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("apiKey", schemes.GetProperty("deviceSecret").GetProperty("type").GetString());
        Assert.Equal("header", schemes.GetProperty("deviceSecret").GetProperty("in").GetString());
        Assert.Equal("X-Device-Secret", schemes.GetProperty("deviceSecret").GetProperty("name").GetString());
        Assert.Equal("http", schemes.GetProperty("adminKey").GetProperty("type").GetString());
        Assert.Equal("bearer", schemes.GetProperty("adminKey").GetProperty("scheme").GetString());
        static IEnumerable<string> SchemesOf(JsonElement operation)
            => operation.TryGetProperty("security", out var security) ? security.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)) : [];
        foreach (var path in new[] { "/api/v1/register", "/api/v1/renew", "/api/v1/addresses", "/api/v1/secret" })
        {
            Assert.Equal(["deviceSecret"], SchemesOf(paths.GetProperty(path).GetProperty("post")));
        }

        Assert.Equal(["adminKey"], SchemesOf(paths.GetProperty("/api/admin/devices").GetProperty("get")));
        Assert.Equal(["adminKey"], SchemesOf(paths.GetProperty("/api/admin/csr").GetProperty("get")));
        Assert.Empty(SchemesOf(paths.GetProperty("/api/health").GetProperty("get")));
        Assert.Empty(SchemesOf(paths.GetProperty("/api/v1/csr").GetProperty("post")));

        // The interactive page for the document.
        var page = await client.GetAsync("/scalar/v1");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.StartsWith("text/html", page.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Contains("Scalar", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        host.DeleteData();
    }

    [Theory]
    [InlineData("Provisioning:Dns:Cloudflare:ApiToken", "x", "Provisioning:Dns:Cloudflare:* is set but Provisioning:Dns:Provider is 'Route53'", "Provisioning:Dns:Provider", "Route53")]
    [InlineData("Provisioning:Issuer", "Bogus", "Provisioning:Issuer 'Bogus' is unknown")]
    [InlineData("Provisioning:Admin:Keys:0:Scopes:0", "write", "Provisioning:Admin:Keys:0:Scopes 'write' is not a scope")]
    [InlineData("Provisioning:Storage:Provider", "PostgreSql", "ConnectionStrings:Provisioning is empty")]
    [InlineData("Provisioning:Storage:Provider", "Oracle", "Provisioning:Storage:Provider 'Oracle' is unknown")]
    [InlineData("Provisioning:Acme:Email", "a@b.c", "set Provisioning:Issuer to 'Acme'")]
    [InlineData("Provisioning:Dns:Cloudflare:ApiToken", "x", "Provisioning:Dns:* is set but Provisioning:Dns:Provider is empty")]
    [InlineData("Provisioning:Dns:Provider", "Bind", "Provisioning:Dns:Provider 'Bind' is unknown")]
    [InlineData("Provisioning:Issuer", "Acme", "Provisioning:Acme:DirectoryUrl is empty")]
    [InlineData("Provisioning:Issuer", "Acme", "Provisioning:Dns:Provider is empty")]
    [InlineData("Provisioning:Issuer", "Acme", "Provisioning:Dns:Provider 'Bind' is unknown", "Provisioning:Dns:Provider", "Bind")]
    [InlineData("Provisioning:Issuer", "Acme", "Provisioning:Dns:ChallTestSrv:ManagementUrl is not a URL", "Provisioning:Dns:Provider", "ChallTestSrv")]
    public void Settings_unknown_or_contradictory_name_the_key(string key, string value, string message, string? otherKey = null, string? otherValue = null)
    {
        var settings = new Dictionary<string, string?> { [key] = value };
        if (otherKey is not null)
        {
            settings[otherKey] = otherValue;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var ex = Assert.Throws<HostConfigurationException>(() => HostSettings.Read(configuration, Path.GetTempPath()));
        Assert.Contains(ex.Errors, e => e.Contains(message, StringComparison.Ordinal));
    }

    /// <summary>Each package binds its own section and refuses what it does not know: the process stops with exit code 2 and one line per mistake.</summary>
    [Theory]
    [InlineData("Provisioning__BaseDomian", "x", "Provisioning:BaseDomian is not a setting of DeviceProvisioningOptions")]
    [InlineData("Provisioning__Storage__Providr", "x", "Provisioning:Storage:Providr is not a setting of ProvisioningHostOptions")]
    [InlineData("Provisioning__Dns__ChallTestSrv__ManagementUri", "http://x", "Provisioning:Dns:ChallTestSrv:ManagementUri is not a setting of ProvisioningHostOptions", true)]
    [InlineData("Provisioning__Http__KnownProxy", "10.0.0.1", "Provisioning:Http:KnownProxy is not a setting of DeviceProvisioningAspNetCoreOptions")]
    [InlineData("Provisioning__BaseDomain", "Not A Domain", "Provisioning:BaseDomain")]
    [InlineData("Provisioning__PrivateCa__PostsPerMinut", "3", "Provisioning:PrivateCa:PostsPerMinut is not a setting of PrivateCaOptions")]
    [InlineData("Provisioning__Http__MaxFailuresPerDevic", "3", "Provisioning:Http:MaxFailuresPerDevic is not a setting")]
    [InlineData("Provisioning__Acme__DirectoryUrI", "https://x", "Provisioning:Acme:DirectoryUrI is not a setting of AcmeIssuerOptions", true)]
    [InlineData("Provisioning__Acme__Client__Timeout", "00:00:10", "Provisioning:Acme:Client:Timeout is not a setting", true)]
    [InlineData("Provisioning__Acme__DirectoryUrl", "not a url", "DirectoryUrl", true)]
    [InlineData("Provisioning__Acme__ExternalAccountKeyId", "kid-1", "ExternalAccountKeyId and ExternalAccountHmacKey go together", true)]
    [InlineData("Provisioning__Acme__TrustedRootFile", "/no/such/root.pem", "TrustedRootFile", true)]
    [InlineData("Provisioning__Acme__Fallbacks__0__Email", "ops@example.test", "Provisioning:Acme:Fallbacks:0:DirectoryUrl must be the fallback CA's absolute https directory URL", true)]
    [InlineData("Provisioning__Acme__Fallbacks__0__DirectoryUrl", "https://127.0.0.1:9/dir", "Provisioning:Acme:Fallbacks:0:DirectoryUrl https://127.0.0.1:9/dir is already the primary's", true)]
    [InlineData("Provisioning__Acme__Fallbacks__0__DirectoryUri", "https://x", "Provisioning:Acme:Fallbacks:0:DirectoryUri is not a setting", true)]
    [InlineData("Provisioning__Acme__MaxConcurrentOrders", "0", "MaxConcurrentOrders", true)]
    [InlineData("Provisioning__Acme__MaxConcurrentOrders", "many", "Provisioning:Acme", true)]
    [InlineData("Provisioning__Dns__Provider", "Cloudflare", "CloudflareDnsOptions.ApiToken is empty", true)]
    [InlineData("Provisioning__Dns__Route53__AccessKeyId", "AKIAEXAMPLE", "set both AccessKeyId and SecretAccessKey", true, "Route53")]
    [InlineData("Provisioning__Dns__Route53__SecretAcessKey", "typo", "Provisioning:Dns:Route53:SecretAcessKey is not a setting", true, "Route53")]
    public async Task Host_misconfigured_package_exits_with_2_naming_the_key(string key, string value, string message, bool acme = false, string? dnsProvider = null)
    {
        var work = Directory.CreateTempSubdirectory("sndctl-config-").FullName;
        try
        {
            var environment = new Dictionary<string, string?> { ["Provisioning__DataDirectory"] = Path.Combine(work, "data"), [key] = value };
            if (dnsProvider is not null)
            {
                environment["Provisioning__Dns__Provider"] = dnsProvider;
            }
            if (acme)
            {
                environment["Provisioning__Issuer"] = "Acme";
                environment.TryAdd("Provisioning__Acme__DirectoryUrl", "https://127.0.0.1:9/dir");
                if (environment.TryAdd("Provisioning__Dns__Provider", "ChallTestSrv"))
                {
                    environment["Provisioning__Dns__ChallTestSrv__ManagementUrl"] = "http://127.0.0.1:9";
                }
            }

            var (exitCode, output, error) = await ProcessRunner.RunAsync(
                "dotnet", [HostProcess.HostDll, "--urls", "http://127.0.0.1:0"], work, environment, timeout: TimeSpan.FromMinutes(2));

            Assert.True(exitCode == 2, $"exit {exitCode}: {output}{error}");
            Assert.Contains(message, error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", error, StringComparison.Ordinal); // a message, not a stack trace
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// The host started as the README starts it, in a directory that then holds its data: no inotify watch
    /// lies on the data directory (the settings files are polled), so SQLite's writes wake no watcher.
    /// </summary>
    [Fact]
    public async Task Host_started_in_a_directory_does_not_watch_the_data_directory_under_it()
    {
        var work = Directory.CreateTempSubdirectory("sndctl-watch-").FullName;
        var host = HostProcess.Start(new Dictionary<string, string?> { ["DOTNET_USE_POLLING_FILE_WATCHER"] = null }, workingDirectory: work);
        try
        {
            await host.WaitReadyAsync("/api/health");

            var data = Path.Combine(work, "data");
            Assert.True(File.Exists(Path.Combine(data, "provisioning.db")), "the database is in ./data");
            var watchedInodes = InotifyWatchedInodes(host.Process.Id);
            var (_, inode, _) = await ProcessRunner.RunAsync("stat", ["-c", "%i", data]);
            Assert.DoesNotContain(long.Parse(inode.Trim(), System.Globalization.CultureInfo.InvariantCulture), watchedInodes);
        }
        finally
        {
            await host.DisposeAsync();
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The inodes every inotify instance of the process watches (<c>/proc/PID/fdinfo</c>: <c>inotify wd:… ino:HEX …</c>).</summary>
    private static HashSet<long> InotifyWatchedInodes(int pid)
    {
        var inodes = new HashSet<long>();
        foreach (var file in Directory.EnumerateFiles($"/proc/{pid}/fdinfo"))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (IOException)
            {
                continue; // the descriptor closed meanwhile
            }

            foreach (var line in lines.Where(l => l.StartsWith("inotify wd:", StringComparison.Ordinal)))
            {
                var ino = line.Split(' ').Single(f => f.StartsWith("ino:", StringComparison.Ordinal))[4..];
                inodes.Add(long.Parse(ino, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return inodes;
    }

    private static ServiceProvider Services(string database, X509Certificate2? certificate)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<HostDbContext, SqliteHostDbContext>(o => o.UseSqlite($"Data Source={database}"));
        var dataProtection = services.AddDataProtection().SetApplicationName("Sndctl.Provisioning").PersistKeysToDbContext<HostDbContext>();
        if (certificate is not null)
        {
            dataProtection.UnprotectKeysWithAnyCertificate(certificate);
        }

        return services.BuildServiceProvider();
    }

    private static async Task<string> StoredKeyAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HostDbContext>();
        return await db.Set<Core.DeviceCertificate>().Select(c => c.ProtectedPrivateKey!).SingleAsync();
    }

    private static async Task CheckpointAndCopyAsync(string source, string destination)
    {
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={source}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            await command.ExecuteNonQueryAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Copy(source, destination);
    }
}
