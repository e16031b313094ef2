using System.Net;
using Npgsql;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// <c>migrate</c>, the migration job: it creates the schema on an empty database (SQLite and PostgreSQL), is a no-op
/// the second time, and a server told not to migrate at start refuses a schema behind its code.
/// </summary>
public sealed class MigrateCommandTests : HostCommandTest
{

    [Fact]
    public async Task On_SQLite_migrate_creates_the_schema_once_and_a_server_that_may_not_migrate_refuses_an_empty_database()
    {
        var environment = new Dictionary<string, string?> { ["Provisioning__DataDirectory"] = Path.Combine(Work, "data") };

        var refused = await Host(["--urls", $"http://127.0.0.1:{Ports.Free()}"], new Dictionary<string, string?>(environment) { ["Provisioning__Storage__MigrateOnStart"] = "false" });
        Assert.True(refused.ExitCode == 2, refused.Output + refused.Error);
        Assert.Contains("migrate", refused.Error, StringComparison.Ordinal);
        Assert.Contains("Provisioning:Storage:MigrateOnStart", refused.Error, StringComparison.Ordinal);

        var first = await Host(["migrate"], environment);
        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        Assert.Matches("Applied [0-9]+ migration", first.Output);
        var second = await Host(["migrate"], environment);
        Assert.True(second.ExitCode == 0, second.Output + second.Error);
        Assert.Contains("up to date", second.Output, StringComparison.Ordinal);

        await using var host = HostProcess.Start(new Dictionary<string, string?>(environment) { ["Provisioning__Storage__MigrateOnStart"] = "false" });
        await host.WaitReadyAsync();
        using var client = host.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/health/live")).StatusCode);
        host.Kill();
    }

    [Fact]
    public async Task On_PostgreSQL_migrate_creates_the_schema_on_an_empty_database()
    {
        var server = TestPostgres.Server();
        var database = $"sndctl_migrate_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        try
        {
            var environment = new Dictionary<string, string?>
            {
                ["Provisioning__DataDirectory"] = Path.Combine(Work, "pg-data"),
                ["Provisioning__Storage__Provider"] = "PostgreSql",
                ["ConnectionStrings__Provisioning"] = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString,
            };
            var migrated = await Host(["migrate"], environment);
            Assert.True(migrated.ExitCode == 0, migrated.Output + migrated.Error);
            Assert.Matches("Applied [0-9]+ migration", migrated.Output);

            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString);
            await connection.OpenAsync();
            await using var tables = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('ProvisioningDevices', 'ProvisioningCertificates', 'ProvisioningAcmeAccounts')", connection);
            Assert.Equal(3L, await tables.ExecuteScalarAsync());
        }
        finally
        {
            await TestPostgres.DropAsync(server, database);
        }
    }
}
