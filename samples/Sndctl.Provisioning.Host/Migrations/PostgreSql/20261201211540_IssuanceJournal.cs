using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class IssuanceJournal : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ProvisioningDnsRecordJournal",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    DeviceId = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    Holder = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Value = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    ProviderId = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningDnsRecordJournal", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ProvisioningPendingIssuances",
                columns: table => new
                {
                    DeviceId = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    Issuer = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CertificateSigningRequest = table.Column<byte[]>(type: "bytea", maxLength: 16384, nullable: false),
                    PublicKey = table.Column<byte[]>(type: "bytea", maxLength: 4096, nullable: false),
                    ProtectedPrivateKey = table.Column<string>(type: "character varying(16384)", maxLength: 16384, nullable: true),
                    ReplacesCertificateId = table.Column<Guid>(type: "uuid", nullable: true),
                    Early = table.Column<bool>(type: "boolean", nullable: false),
                    IssuerReference = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningPendingIssuances", x => x.DeviceId);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDnsRecordJournal_DeviceId",
                table: "ProvisioningDnsRecordJournal",
                column: "DeviceId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ProvisioningDnsRecordJournal");

            migrationBuilder.DropTable(
                name: "ProvisioningPendingIssuances");
        }
    }
}
