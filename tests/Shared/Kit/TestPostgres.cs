using Npgsql;

namespace Sndctl.Provisioning.Testing;

/// <summary>The PostgreSQL server tests/run.sh starts: its connection string, and throw-away databases on it.</summary>
internal static class TestPostgres
{
    /// <summary>The server's connection string (<c>SNDCTL_TEST_POSTGRES</c>); fails in CI without one, skips elsewhere.</summary>
    public static string Server()
    {
        var server = Environment.GetEnvironmentVariable("SNDCTL_TEST_POSTGRES");
        if (string.IsNullOrEmpty(server))
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "SNDCTL_TEST_POSTGRES is not set: run tests/run.sh.");
            Assert.Skip("SNDCTL_TEST_POSTGRES is not set; tests/run.sh starts PostgreSQL.");
        }

        return server;
    }

    /// <summary>Drops <paramref name="database"/> (and closes this process's pooled connections to it first).</summary>
    public static async Task DropAsync(string server, string database)
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
