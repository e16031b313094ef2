using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Sndctl.Provisioning.Host.Data;

/// <summary>
/// The host's own DbContext: the provisioning tables plus the Data Protection key ring, so every
/// instance sharing the database can read what another encrypted. One subclass per provider, each
/// with its own migrations.
/// </summary>
public abstract class HostDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>The Data Protection key ring (keys themselves encrypted with a certificate kept outside the database).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.UseDeviceProvisioning();
        base.OnModelCreating(modelBuilder);
    }
}

/// <summary>SQLite: the embedded default, a file in the data directory.</summary>
public sealed class SqliteHostDbContext(DbContextOptions<SqliteHostDbContext> options) : HostDbContext(options);

/// <summary>PostgreSQL: for several instances sharing one database.</summary>
public sealed class PostgreSqlHostDbContext(DbContextOptions<PostgreSqlHostDbContext> options) : HostDbContext(options);
