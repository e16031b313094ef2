using System.Net;
using System.Net.Http.Json;
using Npgsql;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>The reference host on PostgreSQL: migrations applied at start-up, the device flow, a restart.</summary>
public sealed class PostgreSqlHostTests
{
    [Fact]
    public async Task Host_on_PostgreSQL_migrates_registers_and_keeps_data_across_restart()
    {
        var server = TestPostgres.Server();

        var database = $"sndctl_host_{Guid.NewGuid():N}";
        var settings = new Dictionary<string, string?>
        {
            ["Provisioning:Storage:Provider"] = "PostgreSql",
            ["ConnectionStrings:Provisioning"] = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString,
        };
        var first = new ProvisioningHostFactory(settings: settings);
        try
        {
            CreatedDevice device;
            ProvisionResponse issued;
            await using (first)
            {
                device = await first.CreateDeviceAsync();
                using var client = first.Device();
                var response = await client.SendAsync(ProvisioningHostFactory.Register(device));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                issued = (await response.Content.ReadFromJsonAsync<ProvisionResponse>())!;
            }

            await using var second = new ProvisioningHostFactory(first.DataDirectory, settings);
            using var again = second.Device();
            var renewed = (await (await again.SendAsync(ProvisioningHostFactory.Renew(device))).Content.ReadFromJsonAsync<ProvisionResponse>())!;
            Assert.Equal(issued.Certificate, renewed.Certificate);
            Assert.Equal(issued.PrivateKey, renewed.PrivateKey);
        }
        finally
        {
            await TestPostgres.DropAsync(server, database);
            first.DeleteData();
        }
    }

    [Fact]
    public async Task Oversized_metadata_and_labels_are_400_before_PostgreSQL_sees_them_and_what_fits_is_stored()
    {
        var server = TestPostgres.Server();

        var database = $"sndctl_meta_{Guid.NewGuid():N}";
        var host = new ProvisioningHostFactory(settings: new Dictionary<string, string?>
        {
            ["Provisioning:Storage:Provider"] = "PostgreSql",
            ["ConnectionStrings:Provisioning"] = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString,
            ["Provisioning:PrivateCa:PostsPerMinute"] = "0",
            ["Provisioning:PrivateCa:NetworkPostsPerMinute"] = "0",
        });
        try
        {
            await using (host)
            {
                using var client = host.Device();
                var quotes = Enumerable.Range(0, 32).ToDictionary(i => "k" + i, _ => new string('"', 256));
                await HttpAssert.ProblemAsync(await client.PostAsJsonAsync("/api/v1/csr", new { content = PrivateCsrTests.Csr("10.9.0.1"), metadata = quotes }), 400);
                var fits = Enumerable.Range(0, 16).ToDictionary(i => "k" + i, _ => new string('a', 200));
                Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/v1/csr", new { content = PrivateCsrTests.Csr("10.9.0.2"), metadata = fits })).StatusCode);

                using var admin = host.Admin();
                await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/admin/devices", new { labels = quotes }), 400);
                var labels = Enumerable.Range(0, 32).ToDictionary(i => "k" + i, _ => new string('a', 256));
                Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/admin/devices", new { labels })).StatusCode);
            }
        }
        finally
        {
            await TestPostgres.DropAsync(server, database);
            host.DeleteData();
        }
    }
}
