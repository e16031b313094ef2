using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class CertificatesRevokedIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningCertificates_Revoked",
                table: "ProvisioningCertificates",
                column: "RevokedAt",
                filter: "\"RevokedAt\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ProvisioningCertificates_Revoked",
                table: "ProvisioningCertificates");
        }
    }
}
