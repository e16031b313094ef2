using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Storage.EfCore.Internal;

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

    [Fact]
    public async Task Writes_of_our_own_commit_once_done_and_roll_back_on_failure_leaving_the_file_writable()
    {
        await using (var context = Context())
        {
            await context.Database.EnsureCreatedAsync(TestContext.Current.CancellationToken);
        }

        var insert = new OwnStatement(context => new OwnStatement.Text(
            "INSERT INTO \"ProvisioningRateLimits\" (\"Key\", \"TheoreticalArrival\") VALUES (@p0, 1)", [default]));

        // Cancelled after its statements ran (the caller gave up at the last moment): committed all the same.
        using var cancel = new CancellationTokenSource();
        await using (var context = Context())
        {
            await OwnStatement.WriteAsync(
                context,
                transaction: true,
                async runner =>
                {
                    await runner.RunAsync(insert, null, cancel.Token, "kept");
                    await cancel.CancelAsync();
                    return 0;
                },
                cancel.Token);
        }

        // Failed half-way: nothing of it stays.
        await using (var context = Context())
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => OwnStatement.WriteAsync<int>(
                context,
                transaction: true,
                async runner =>
                {
                    await runner.RunAsync(insert, null, TestContext.Current.CancellationToken, "dropped");
                    throw new InvalidOperationException("fails after its first statement");
                },
                TestContext.Current.CancellationToken));
        }

        // Another connection writes at once (no transaction left open on the writer connection) and reads what stayed.
        await using (var other = new TestDbContext(new DbContextOptionsBuilder<TestDbContext>().UseSqlite($"Data Source={_path};Default Timeout=1").Options))
        {
            await other.Database.ExecuteSqlRawAsync("INSERT INTO \"ProvisioningRateLimits\" (\"Key\", \"TheoreticalArrival\") VALUES ('other', 1)", TestContext.Current.CancellationToken);
            var keys = await other.Database.SqlQueryRaw<string>("SELECT \"Key\" AS \"Value\" FROM \"ProvisioningRateLimits\" ORDER BY \"Key\"").ToListAsync(TestContext.Current.CancellationToken);
            Assert.Equal(["kept", "other"], keys);
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
