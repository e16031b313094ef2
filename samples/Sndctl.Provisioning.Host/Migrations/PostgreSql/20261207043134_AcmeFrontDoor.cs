using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class AcmeFrontDoor : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ProtectedSecret",
                table: "ProvisioningDevices",
                type: "character varying(1024)",
                maxLength: 1024,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ProvisioningAcmeAccounts",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    DeviceId = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    Jwk = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    KeyThumbprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ConcurrencyStamp = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningAcmeAccounts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ProvisioningAcmeNonces",
                columns: table => new
                {
                    Value = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ExpiresAt = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningAcmeNonces", x => x.Value);
                });

            migrationBuilder.CreateTable(
                name: "ProvisioningAcmeOrders",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    AccountId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    DeviceId = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    Hostname = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Expires = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Csr = table.Column<byte[]>(type: "bytea", maxLength: 16384, nullable: true),
                    CertificateId = table.Column<Guid>(type: "uuid", nullable: true),
                    ErrorType = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    ErrorDetail = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    ConcurrencyStamp = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningAcmeOrders", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningAcmeAccounts_DeviceId",
                table: "ProvisioningAcmeAccounts",
                column: "DeviceId");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningAcmeAccounts_KeyThumbprint",
                table: "ProvisioningAcmeAccounts",
                column: "KeyThumbprint",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningAcmeNonces_ExpiresAt",
                table: "ProvisioningAcmeNonces",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningAcmeOrders_AccountId",
                table: "ProvisioningAcmeOrders",
                column: "AccountId");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningAcmeOrders_DeviceId_Status",
                table: "ProvisioningAcmeOrders",
                columns: new[] { "DeviceId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningAcmeOrders_Expires",
                table: "ProvisioningAcmeOrders",
                column: "Expires");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ProvisioningAcmeAccounts");

            migrationBuilder.DropTable(
                name: "ProvisioningAcmeNonces");

            migrationBuilder.DropTable(
                name: "ProvisioningAcmeOrders");

            migrationBuilder.DropColumn(
                name: "ProtectedSecret",
                table: "ProvisioningDevices");
        }
    }
}
