using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.Sqlite
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
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    DeviceId = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    Holder = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Value = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    ProviderId = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningDnsRecordJournal", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ProvisioningPendingIssuances",
                columns: table => new
                {
                    DeviceId = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    Issuer = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CertificateSigningRequest = table.Column<byte[]>(type: "BLOB", maxLength: 16384, nullable: false),
                    PublicKey = table.Column<byte[]>(type: "BLOB", maxLength: 4096, nullable: false),
                    ProtectedPrivateKey = table.Column<string>(type: "TEXT", maxLength: 16384, nullable: true),
                    ReplacesCertificateId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Early = table.Column<bool>(type: "INTEGER", nullable: false),
                    IssuerReference = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
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
