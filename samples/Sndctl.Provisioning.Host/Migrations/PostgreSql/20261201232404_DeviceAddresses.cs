using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.PostgreSql
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
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "Addresses",
                table: "ProvisioningDevices",
                type: "character varying(255)",
                maxLength: 255,
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateTable(
                name: "ProvisioningZoneRecords",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: false),
                    Type = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    Value = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
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
