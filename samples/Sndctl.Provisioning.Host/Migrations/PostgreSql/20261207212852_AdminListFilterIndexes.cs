using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class AdminListFilterIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_NameResolution",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_SecretOrigin",
                table: "ProvisioningDevices");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_NameResolution_CreatedAt",
                table: "ProvisioningDevices",
                columns: new[] { "NameResolution", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_NotActive_Expiry",
                table: "ProvisioningDevices",
                columns: new[] { "Status", "CurrentCertificateNotAfter", "DeviceId" },
                filter: "\"CurrentCertificateNotAfter\" IS NOT NULL AND \"Status\" <> 'Active'");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_NotActive_LastSeen",
                table: "ProvisioningDevices",
                columns: new[] { "Status", "LastSeenAt", "DeviceId" },
                descending: new[] { false, true, false },
                filter: "\"LastSeenAt\" IS NOT NULL AND \"Status\" <> 'Active'");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_SecretOrigin_CreatedAt",
                table: "ProvisioningDevices",
                columns: new[] { "SecretOrigin", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_Status_DeviceId",
                table: "ProvisioningDevices",
                columns: new[] { "Status", "DeviceId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_NameResolution_CreatedAt",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_NotActive_Expiry",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_NotActive_LastSeen",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_SecretOrigin_CreatedAt",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_Status_DeviceId",
                table: "ProvisioningDevices");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_NameResolution",
                table: "ProvisioningDevices",
                column: "NameResolution");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_SecretOrigin",
                table: "ProvisioningDevices",
                column: "SecretOrigin");
        }
    }
}
