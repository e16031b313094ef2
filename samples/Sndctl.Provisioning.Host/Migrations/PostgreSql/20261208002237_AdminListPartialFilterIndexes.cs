using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class AdminListPartialFilterIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_ReplacedSecret_DeviceId",
                table: "ProvisioningDevices",
                columns: new[] { "SecretOrigin", "DeviceId" },
                filter: "\"SecretOrigin\" <> 'Factory'");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_ReplacedSecret_Expiry",
                table: "ProvisioningDevices",
                columns: new[] { "SecretOrigin", "CurrentCertificateNotAfter", "DeviceId" },
                filter: "\"SecretOrigin\" <> 'Factory'");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_ReplacedSecret_LastSeen",
                table: "ProvisioningDevices",
                columns: new[] { "SecretOrigin", "LastSeenAt", "DeviceId" },
                descending: new[] { false, true, false },
                filter: "\"SecretOrigin\" <> 'Factory'");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_ReplacedSecret_Status",
                table: "ProvisioningDevices",
                columns: new[] { "SecretOrigin", "Status", "DeviceId" },
                filter: "\"SecretOrigin\" <> 'Factory'");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_Resolved_DeviceId",
                table: "ProvisioningDevices",
                columns: new[] { "NameResolution", "DeviceId" },
                filter: "\"NameResolution\" <> 'Unknown'");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_Resolved_Expiry",
                table: "ProvisioningDevices",
                columns: new[] { "NameResolution", "CurrentCertificateNotAfter", "DeviceId" },
                filter: "\"NameResolution\" <> 'Unknown'");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_Resolved_LastSeen",
                table: "ProvisioningDevices",
                columns: new[] { "NameResolution", "LastSeenAt", "DeviceId" },
                descending: new[] { false, true, false },
                filter: "\"NameResolution\" <> 'Unknown'");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_Resolved_Status",
                table: "ProvisioningDevices",
                columns: new[] { "NameResolution", "Status", "DeviceId" },
                filter: "\"NameResolution\" <> 'Unknown'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_ReplacedSecret_DeviceId",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_ReplacedSecret_Expiry",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_ReplacedSecret_LastSeen",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_ReplacedSecret_Status",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_Resolved_DeviceId",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_Resolved_Expiry",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_Resolved_LastSeen",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_Resolved_Status",
                table: "ProvisioningDevices");
        }
    }
}
