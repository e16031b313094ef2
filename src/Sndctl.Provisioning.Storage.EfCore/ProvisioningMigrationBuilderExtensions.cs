using Microsoft.EntityFrameworkCore.Metadata;
using Sndctl.Provisioning.Storage.EfCore.Internal;

namespace Microsoft.EntityFrameworkCore.Migrations;

/// <summary>What a host's own migrations add beyond the model's tables.</summary>
public static class ProvisioningMigrationBuilderExtensions
{
    /// <summary>
    /// Has the database keep the fleet's counts by status, name resolution and secret origin itself (triggers on the devices
    /// table, SQLite or PostgreSQL), and counts the devices already there, so that statistics and list totals read a few
    /// dozen rows instead of counting every device. Call it in a migration's <c>Up</c> after the provisioning tables exist
    /// (the reference host's <c>DeviceCounts</c> migration does), with that migration's <c>TargetModel</c>; without it the
    /// stores count the devices table. Undo it in <c>Down</c> with <see cref="StopKeepingProvisioningDeviceCounts"/>.
    /// </summary>
    /// <param name="migrationBuilder">The migration's builder (its provider picks the SQL).</param>
    /// <param name="targetModel">The migration's <c>TargetModel</c> (table and column names come from it).</param>
    public static MigrationBuilder KeepProvisioningDeviceCounts(this MigrationBuilder migrationBuilder, IModel targetModel)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        ArgumentNullException.ThrowIfNull(targetModel);
        return Statements(migrationBuilder, DeviceCounts.Install(targetModel, migrationBuilder.ActiveProvider ?? string.Empty));
    }

    /// <summary>Removes what <see cref="KeepProvisioningDeviceCounts"/> installed; the stores count the devices table again.</summary>
    /// <param name="migrationBuilder">The migration's builder.</param>
    /// <param name="targetModel">The migration's <c>TargetModel</c>.</param>
    public static MigrationBuilder StopKeepingProvisioningDeviceCounts(this MigrationBuilder migrationBuilder, IModel targetModel)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        ArgumentNullException.ThrowIfNull(targetModel);
        return Statements(migrationBuilder, DeviceCounts.Uninstall(targetModel, migrationBuilder.ActiveProvider ?? string.Empty));
    }

    private static MigrationBuilder Statements(MigrationBuilder migrationBuilder, IEnumerable<string> statements)
    {
        foreach (var statement in statements)
        {
            migrationBuilder.Sql(statement);
        }

        return migrationBuilder;
    }
}
