using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class DeviceAddressRecordsPendingIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_AddressRecordsPending",
                table: "ProvisioningDevices");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_AddressRecordsPending",
                table: "ProvisioningDevices",
                column: "DeviceId",
                filter: "\"AddressRecordsPending\"");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_AddressRecordsPending",
                table: "ProvisioningDevices");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_AddressRecordsPending",
                table: "ProvisioningDevices",
                column: "AddressRecordsPending");
        }
    }
}
