using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DeviceSecretRotationAndNameResolution : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "NameResolution",
                table: "ProvisioningDevices",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "Unknown");

            migrationBuilder.AddColumn<DateTime>(
                name: "NameResolutionAt",
                table: "ProvisioningDevices",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PendingProtectedSecret",
                table: "ProvisioningDevices",
                type: "TEXT",
                maxLength: 1024,
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "PendingSecretHash",
                table: "ProvisioningDevices",
                type: "BLOB",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "SecretChangedAt",
                table: "ProvisioningDevices",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SecretOrigin",
                table: "ProvisioningDevices",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "Factory");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_NameResolution",
                table: "ProvisioningDevices",
                column: "NameResolution");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_SecretOrigin",
                table: "ProvisioningDevices",
                column: "SecretOrigin");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_NameResolution",
                table: "ProvisioningDevices");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_SecretOrigin",
                table: "ProvisioningDevices");

            migrationBuilder.DropColumn(
                name: "NameResolution",
                table: "ProvisioningDevices");

            migrationBuilder.DropColumn(
                name: "NameResolutionAt",
                table: "ProvisioningDevices");

            migrationBuilder.DropColumn(
                name: "PendingProtectedSecret",
                table: "ProvisioningDevices");

            migrationBuilder.DropColumn(
                name: "PendingSecretHash",
                table: "ProvisioningDevices");

            migrationBuilder.DropColumn(
                name: "SecretChangedAt",
                table: "ProvisioningDevices");

            migrationBuilder.DropColumn(
                name: "SecretOrigin",
                table: "ProvisioningDevices");
        }
    }
}
