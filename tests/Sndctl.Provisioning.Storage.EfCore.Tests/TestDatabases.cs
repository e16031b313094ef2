using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Sndctl.Provisioning.Testing;

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

    /// <summary>Has the database keep the device counts, as the reference host's migration does (what its own migrations would add).</summary>
    public static void KeepDeviceCounts(DbContext context)
    {
        foreach (var statement in Internal.DeviceCounts.Install(context.Model, context.Database.ProviderName!))
        {
            context.Database.ExecuteSqlRaw(statement);
        }
    }
}

public class SqliteFileDatabase : ITestDatabase
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"sndctl-store-{Guid.NewGuid():N}.db");
    private readonly bool _gated;

    public SqliteFileDatabase()
        : this(gated: false)
    {
    }

    protected SqliteFileDatabase(bool gated)
    {
        _gated = gated;
        using var context = CreateContext();
        context.Database.EnsureCreated();
        if (gated)
        {
            // The plain file counts devices the way a host without the counts' migration does; the gated one as the reference host.
            TestDatabase.KeepDeviceCounts(context);
        }
    }

    public TestDbContext CreateContext()
    {
        var options = new DbContextOptionsBuilder<TestDbContext>();
        Configure(options);
        return new(options.Options);
    }

    public ServiceProvider Services() => TestDatabase.Services(Configure);

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(_path);
        return ValueTask.CompletedTask;
    }

    private void Configure(DbContextOptionsBuilder options)
    {
        var connectionString = $"Data Source={_path}";
        options.UseSqlite(connectionString);
        if (_gated)
        {
            options.UseSqliteWriteGate(connectionString);
        }
    }
}

/// <summary>A SQLite file behind the write gate, as the reference host runs it (its own statements on the file's writer connection).</summary>
public sealed class SqliteGatedFileDatabase() : SqliteFileDatabase(gated: true);

/// <summary>A database of its own on the test PostgreSQL server (<see cref="TestPostgres"/>), dropped after.</summary>
public sealed class PostgreSqlDatabase : ITestDatabase
{
    private readonly string _server = TestPostgres.Server();
    private readonly string _connectionString;

    public PostgreSqlDatabase()
    {
        _connectionString = new NpgsqlConnectionStringBuilder(_server) { Database = $"sndctl_store_{Guid.NewGuid():N}" }.ConnectionString;
        using var context = CreateContext();
        context.Database.EnsureCreated();
        TestDatabase.KeepDeviceCounts(context);
    }

    public TestDbContext CreateContext() => new(new DbContextOptionsBuilder<TestDbContext>().UseNpgsql(_connectionString).Options);

    public ServiceProvider Services() => TestDatabase.Services(o => o.UseNpgsql(_connectionString));

    public ValueTask DisposeAsync() => new(TestPostgres.DropAsync(_server, new NpgsqlConnectionStringBuilder(_connectionString).Database!));
}
