using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Sndctl.Provisioning.Storage.EfCore.Tests;

public sealed class TestDbContext(DbContextOptions<TestDbContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.UseDeviceProvisioning();
}

/// <summary>A fresh database per test class: a SQLite file, or a database on the PostgreSQL server tests/run.sh starts.</summary>
public interface ITestDatabase : IAsyncDisposable
{
    TestDbContext CreateContext();

    /// <summary>The EF stores on this database, as an app registers them (one context per scope).</summary>
    ServiceProvider Services();
}

internal static class TestDatabase
{
    public static ServiceProvider Services(Action<DbContextOptionsBuilder> database)
    {
        var services = new ServiceCollection();
        services.AddDbContext<TestDbContext>(database);
        services.AddDeviceProvisioning().UseEntityFrameworkStores<TestDbContext>();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }
}

public sealed class SqliteFileDatabase : ITestDatabase
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"sndctl-store-{Guid.NewGuid():N}.db");

    public SqliteFileDatabase()
    {
        using var context = CreateContext();
        context.Database.EnsureCreated();
    }

    public TestDbContext CreateContext() => new(new DbContextOptionsBuilder<TestDbContext>().UseSqlite($"Data Source={_path}").Options);

    public ServiceProvider Services() => TestDatabase.Services(o => o.UseSqlite($"Data Source={_path}"));

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(_path);
        return ValueTask.CompletedTask;
    }
}

public sealed class PostgreSqlDatabase : ITestDatabase
{
    /// <summary>Set by tests/run.sh; CI fails rather than skips when it is missing.</summary>
    public const string EnvironmentVariable = "SNDCTL_TEST_POSTGRES";
    private readonly string _connectionString;
    private readonly string _name = $"sndctl_store_{Guid.NewGuid():N}";

    public PostgreSqlDatabase()
    {
        var server = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(server))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
            {
                throw new InvalidOperationException($"{EnvironmentVariable} is not set: run the tests through tests/run.sh, which starts PostgreSQL.");
            }

            Assert.Skip($"{EnvironmentVariable} is not set; tests/run.sh starts a PostgreSQL server and sets it.");
        }

        _connectionString = new NpgsqlConnectionStringBuilder(server) { Database = _name }.ConnectionString;
        using var context = CreateContext();
        context.Database.EnsureCreated();
    }

    public TestDbContext CreateContext() => new(new DbContextOptionsBuilder<TestDbContext>().UseNpgsql(_connectionString).Options);

    public ServiceProvider Services() => TestDatabase.Services(o => o.UseNpgsql(_connectionString));

    public async ValueTask DisposeAsync()
    {
        await using (var context = CreateContext())
        {
            await context.Database.EnsureDeletedAsync();
        }

        NpgsqlConnection.ClearAllPools();
    }
}
