using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Applying migrations when several instances start at the same moment.</summary>
public static class ProvisioningMigrationExtensions
{
    /// <summary>The PostgreSQL advisory lock key that serializes migrations (any bigint that others do not use).</summary>
    public const long MigrationLockKey = 0x536e_6463_746c_4d31; // "SndctlM1"

    /// <summary>
    /// Applies pending migrations, one instance at a time: on PostgreSQL under a session advisory lock
    /// (<c>pg_advisory_lock</c>), so instances starting together on an empty or older database wait for
    /// the first instead of racing it into "relation already exists"; the others then find nothing to
    /// apply. Other providers migrate as EF Core does, which serializes them too (on SQLite with its
    /// <c>__EFMigrationsLock</c> table, so two processes opening one file at once, such as the server
    /// and an admin command, take turns).
    /// </summary>
    public static async Task MigrateSerializedAsync(this DatabaseFacade database, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (database.ProviderName != "Npgsql.EntityFrameworkCore.PostgreSQL")
        {
            await database.MigrateAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        // The lock lives in the database, so the database must exist first (MigrateAsync would create
        // it, but only after the lock is needed). Instances racing here: one creates, the rest find it.
        var creator = database.GetService<Microsoft.EntityFrameworkCore.Storage.IRelationalDatabaseCreator>();
        if (!await creator.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await creator.CreateAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (System.Data.Common.DbException)
            {
                // Another instance created it a moment ago; anything else fails again just below.
                if (!await creator.ExistsAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw;
                }
            }
        }

        // The lock belongs to the session: keep one connection open across lock, migrate and unlock.
        await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await database.ExecuteSqlRawAsync("SELECT pg_advisory_lock({0})", [MigrationLockKey], cancellationToken).ConfigureAwait(false);
            try
            {
                await database.MigrateAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await database.ExecuteSqlRawAsync("SELECT pg_advisory_unlock({0})", [MigrationLockKey], CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            await database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }
}
