using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Sndctl.Provisioning.Storage.EfCore.Tests;

/// <summary>The SQLite write gate's connection settings: WAL on the file, <c>synchronous=NORMAL</c> on every native connection, pooled or new.</summary>
public sealed class SqliteWriteGateTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"sndctl-gate-{Guid.NewGuid():N}.db");

    private TestDbContext Context()
    {
        var connectionString = $"Data Source={_path}";
        var options = new DbContextOptionsBuilder<TestDbContext>().UseSqlite(connectionString);
        options.UseSqliteWriteGate(connectionString);
        return new(options.Options);
    }

    [Fact]
    public async Task Every_connection_runs_in_WAL_with_synchronous_NORMAL_whether_pooled_or_new()
    {
        await using (var context = Context())
        {
            await context.Database.EnsureCreatedAsync(TestContext.Current.CancellationToken);
        }

        for (var round = 0; round < 3; round++)
        {
            // Several connections open at once (several native connections), then the same ones again from the pool.
            var contexts = Enumerable.Range(0, 3).Select(_ => Context()).ToList();
            foreach (var context in contexts)
            {
                await context.Database.OpenConnectionAsync(TestContext.Current.CancellationToken);
                Assert.Equal(1L, await Scalar(context, "PRAGMA synchronous")); // NORMAL (the default, FULL, is 2)
                Assert.Equal("wal", await Scalar(context, "PRAGMA journal_mode"));
            }

            foreach (var context in contexts)
            {
                await context.DisposeAsync();
            }

            if (round == 1)
            {
                SqliteConnection.ClearAllPools(); // new native connections next round
            }
        }
    }

    private static async Task<object?> Scalar(DbContext context, string sql)
    {
        await using var command = context.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }
}
