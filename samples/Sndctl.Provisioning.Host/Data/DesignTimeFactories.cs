using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Sndctl.Provisioning.Host.Data;

/// <summary>Lets dotnet-ef (tools/add-migration.sh) build the SQLite model without starting the host.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteHostDbContext>
{
    public SqliteHostDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<SqliteHostDbContext>().UseSqlite("Data Source=design.db").Options);
}

/// <summary>Lets dotnet-ef (tools/add-migration.sh) build the PostgreSQL model without a server.</summary>
internal sealed class PostgreSqlDesignTimeFactory : IDesignTimeDbContextFactory<PostgreSqlHostDbContext>
{
    public PostgreSqlHostDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<PostgreSqlHostDbContext>().UseNpgsql("Host=localhost;Database=design").Options);
}
