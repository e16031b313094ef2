using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class InitialCreate : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "DataProtectionKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    FriendlyName = table.Column<string>(type: "text", nullable: true),
                    Xml = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataProtectionKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ProvisioningAuditEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Timestamp = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    DeviceId = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: true),
                    Actor = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Details = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningAuditEvents", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ProvisioningCertificates",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    DeviceId = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    Issuer = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    SerialNumber = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Thumbprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CertificatePem = table.Column<string>(type: "text", nullable: false),
                    ProtectedPrivateKey = table.Column<string>(type: "text", nullable: true),
                    NotBefore = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    NotAfter = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    RenewAfter = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    IssuedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    RevokedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    ReplacesId = table.Column<Guid>(type: "uuid", nullable: true),
                    ConcurrencyStamp = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningCertificates", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ProvisioningDevices",
                columns: table => new
                {
                    DeviceId = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    Hostname = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: false),
                    SecretHash = table.Column<byte[]>(type: "bytea", maxLength: 64, nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Labels = table.Column<string>(type: "character varying(16384)", maxLength: 16384, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    RegisteredAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastSeenAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    CurrentCertificateId = table.Column<Guid>(type: "uuid", nullable: true),
                    ConcurrencyStamp = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningDevices", x => x.DeviceId);
                });

            migrationBuilder.CreateTable(
                name: "ProvisioningIssuanceLeases",
                columns: table => new
                {
                    DeviceId = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    Holder = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningIssuanceLeases", x => x.DeviceId);
                });

            migrationBuilder.CreateTable(
                name: "ProvisioningIssuerState",
                columns: table => new
                {
                    Key = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Value = table.Column<string>(type: "text", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningIssuerState", x => x.Key);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningAuditEvents_DeviceId_Id",
                table: "ProvisioningAuditEvents",
                columns: new[] { "DeviceId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningAuditEvents_Type_Timestamp",
                table: "ProvisioningAuditEvents",
                columns: new[] { "Type", "Timestamp" });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningCertificates_DeviceId_IssuedAt",
                table: "ProvisioningCertificates",
                columns: new[] { "DeviceId", "IssuedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningCertificates_NotAfter",
                table: "ProvisioningCertificates",
                column: "NotAfter");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningCertificates_SerialNumber",
                table: "ProvisioningCertificates",
                column: "SerialNumber");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_CreatedAt",
                table: "ProvisioningDevices",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_Hostname",
                table: "ProvisioningDevices",
                column: "Hostname",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_Status_CreatedAt",
                table: "ProvisioningDevices",
                columns: new[] { "Status", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DataProtectionKeys");

            migrationBuilder.DropTable(
                name: "ProvisioningAuditEvents");

            migrationBuilder.DropTable(
                name: "ProvisioningCertificates");

            migrationBuilder.DropTable(
                name: "ProvisioningDevices");

            migrationBuilder.DropTable(
                name: "ProvisioningIssuanceLeases");

            migrationBuilder.DropTable(
                name: "ProvisioningIssuerState");
        }
    }
}
