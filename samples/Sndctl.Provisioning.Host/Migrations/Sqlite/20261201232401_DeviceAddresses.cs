using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DeviceAddresses : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "AddressRecordsPending",
                table: "ProvisioningDevices",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "Addresses",
                table: "ProvisioningDevices",
                type: "TEXT",
                maxLength: 255,
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateTable(
                name: "ProvisioningZoneRecords",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 253, nullable: false),
                    Type = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    Value = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningZoneRecords", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_AddressRecordsPending",
                table: "ProvisioningDevices",
                column: "AddressRecordsPending");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningZoneRecords_Name",
                table: "ProvisioningZoneRecords",
                column: "Name");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ProvisioningZoneRecords");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_AddressRecordsPending",
                table: "ProvisioningDevices");

            migrationBuilder.DropColumn(
                name: "AddressRecordsPending",
                table: "ProvisioningDevices");

            migrationBuilder.DropColumn(
                name: "Addresses",
                table: "ProvisioningDevices");
        }
    }
}
