using Sndctl.Provisioning.Storage.EfCore.Internal;

namespace Microsoft.EntityFrameworkCore;

/// <summary>SQLite settings for the provisioning write path.</summary>
public static class ProvisioningSqliteExtensions
{
    /// <summary>
    /// For a context on a SQLite file (after <c>UseSqlite(connectionString)</c>): turns the file to WAL
    /// and opens connections with <c>synchronous=NORMAL</c>, and makes this process's writers to the file
    /// wait for each other asynchronously instead of in SQLite's sleeping busy-retry on a thread-pool
    /// thread. Every context on the same file must use the same <paramref name="connectionString"/>.
    /// </summary>
    /// <param name="optionsBuilder">The context's options.</param>
    /// <param name="connectionString">The connection string passed to <c>UseSqlite</c>; one gate per string.</param>
    public static DbContextOptionsBuilder UseSqliteWriteGate(this DbContextOptionsBuilder optionsBuilder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(optionsBuilder);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        return optionsBuilder.AddInterceptors(SqliteWriteGate.For(connectionString));
    }
}
