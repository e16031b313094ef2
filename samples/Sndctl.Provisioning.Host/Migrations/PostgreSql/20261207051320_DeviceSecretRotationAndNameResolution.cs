using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.PostgreSql
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
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "Unknown");

            migrationBuilder.AddColumn<DateTime>(
                name: "NameResolutionAt",
                table: "ProvisioningDevices",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PendingProtectedSecret",
                table: "ProvisioningDevices",
                type: "character varying(1024)",
                maxLength: 1024,
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "PendingSecretHash",
                table: "ProvisioningDevices",
                type: "bytea",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "SecretChangedAt",
                table: "ProvisioningDevices",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SecretOrigin",
                table: "ProvisioningDevices",
                type: "character varying(16)",
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
