using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Hardening : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ClientNetwork",
                table: "ProvisioningCsrRequests",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "EarlyReissue",
                table: "ProvisioningCertificates",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningCsrRequests_ClientNetwork_Status",
                table: "ProvisioningCsrRequests",
                columns: new[] { "ClientNetwork", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningCsrRequests_Status_DecidedAt",
                table: "ProvisioningCsrRequests",
                columns: new[] { "Status", "DecidedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningCertificates_Issuer_RevokedAt",
                table: "ProvisioningCertificates",
                columns: new[] { "Issuer", "RevokedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ProvisioningCsrRequests_ClientNetwork_Status",
                table: "ProvisioningCsrRequests");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningCsrRequests_Status_DecidedAt",
                table: "ProvisioningCsrRequests");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningCertificates_Issuer_RevokedAt",
                table: "ProvisioningCertificates");

            migrationBuilder.DropColumn(
                name: "ClientNetwork",
                table: "ProvisioningCsrRequests");

            migrationBuilder.DropColumn(
                name: "EarlyReissue",
                table: "ProvisioningCertificates");
        }
    }
}
