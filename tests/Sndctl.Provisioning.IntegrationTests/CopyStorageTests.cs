using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// <c>copy-storage</c> moves a SQLite deployment into a real PostgreSQL while the server runs: every device is there
/// afterwards, the CA is the same, and an existing device gets its same certificate and server-made key with its secret.
/// </summary>
public sealed class CopyStorageTests : HostCommandTest
{
    private const string AdminKey = "copy-storage-admin-key-0123456789abcdef012345";

    [Fact]
    public async Task A_running_SQLite_deployment_copies_into_PostgreSQL_with_every_device_the_CA_and_the_certificates()
    {
        var server = TestPostgres.Server();
        var database = $"sndctl_copy_{Guid.NewGuid():N}";
        var target = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
        var original = Path.Combine(Work, "sqlite");
        try
        {
            string root, certificate, privateKey;
            CreatedDevice device;
            int total;
            string copyOutput;
            await using (var host = HostProcess.Start(Sqlite(original)))
            {
                await host.WaitReadyAsync();
                using var admin = host.CreateClient(AdminKey);
                device = (await (await admin.PostAsJsonAsync("/api/admin/devices", new { labels = new Dictionary<string, string> { ["site"] = "berlin" } })).Content.ReadFromJsonAsync<CreatedDevice>())!;
                Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/admin/devices/batch", new { count = 1500 })).StatusCode);
                using var client = host.CreateClient();
                root = await client.GetStringAsync("/api/v1/ca/root.pem");
                var registered = await Register(client, device);
                certificate = registered.GetProperty("certificate").GetString()!;
                privateKey = registered.GetProperty("privateKey").GetString()!;
                total = (await admin.GetFromJsonAsync<JsonElement>("/api/admin/devices?pageSize=1")).GetProperty("total").GetInt32();
                Assert.Equal(1501, total);

                var copy = await Host(["copy-storage", "--to-provider", "PostgreSql", "--to-connection", target], Sqlite(original));
                Assert.True(copy.ExitCode == 0, copy.Output + copy.Error);
                Assert.Matches(@"ProvisioningDevices\s+1501 ->\s+1501", copy.Output);
                copyOutput = copy.Output;
                Assert.Contains("Provisioning:DataProtection:CertificateFile", copy.Output, StringComparison.Ordinal);

                var again = await Host(["copy-storage", "--to-provider", "PostgreSql", "--to-connection", target], Sqlite(original));
                Assert.Equal(3, again.ExitCode);
                Assert.Contains("not empty", again.Error, StringComparison.Ordinal);

                // The source was only read: it serves on, with the same fleet.
                Assert.Equal(total, (await admin.GetFromJsonAsync<JsonElement>("/api/admin/devices?pageSize=1")).GetProperty("total").GetInt32());
                host.Kill();
            }

            var moved = new Dictionary<string, string?>
            {
                ["Provisioning__DataDirectory"] = Path.Combine(Work, "postgres"),
                ["Provisioning__Storage__Provider"] = "PostgreSql",
                ["ConnectionStrings__Provisioning"] = target,
                ["Provisioning__DataProtection__CertificateFile"] = Path.Combine(original, "keyring-protection.pfx"),
                ["Provisioning__Admin__ApiKeys__0"] = AdminKey,
            };
            await using (var host = HostProcess.Start(moved))
            {
                await host.WaitReadyAsync();
                using var client = host.CreateClient();
                Assert.Equal(root, await client.GetStringAsync("/api/v1/ca/root.pem"));
                var served = await Register(client, device);
                Assert.Equal(certificate, served.GetProperty("certificate").GetString());
                Assert.Equal(privateKey, served.GetProperty("privateKey").GetString());

                using var admin = host.CreateClient(AdminKey);
                Assert.Equal(total, (await admin.GetFromJsonAsync<JsonElement>("/api/admin/devices?pageSize=1")).GetProperty("total").GetInt32());

                // The device counts were not copied (derived): the target's triggers counted the devices as they arrived.
                Assert.DoesNotContain("ProvisioningDeviceCounts", copyOutput, StringComparison.Ordinal);
                var statistics = await admin.GetFromJsonAsync<JsonElement>("/api/admin/statistics");
                Assert.Equal(1, statistics.GetProperty("devicesByStatus").GetProperty("active").GetInt32());
                Assert.Equal(1500, statistics.GetProperty("devicesByStatus").GetProperty("pending").GetInt32());
                var copied = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
                Assert.Equal("berlin", copied.GetProperty("labels").GetProperty("site").GetString());

                // New rows continue after the copied ones (identities restarted past them): the audit trail grows.
                Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/admin/devices", new { })).StatusCode);
                host.Kill();
            }
        }
        finally
        {
            await TestPostgres.DropAsync(server, database);
        }
    }

    [Fact]
    public async Task Copying_into_its_own_database_or_with_a_bad_provider_is_refused()
    {
        var data = Path.Combine(Work, "self");
        var self = await Host(["copy-storage", "--to-provider", "Sqlite", "--to-connection", $"Data Source={Path.Combine(data, "provisioning.db")}"], Sqlite(data));
        Assert.Equal(3, self.ExitCode);
        var usage = await Host(["copy-storage", "--to-provider", "Oracle", "--to-connection", "x"], Sqlite(data));
        Assert.Equal(2, usage.ExitCode);
    }

    private static Dictionary<string, string?> Sqlite(string data) => new()
    {
        ["Provisioning__DataDirectory"] = data,
        ["Provisioning__Admin__ApiKeys__0"] = AdminKey,
    };

    private static async Task<JsonElement> Register(HttpClient client, CreatedDevice device)
    {
        var response = await client.SendAsync(ProvisioningHostFactory.Register(device));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
