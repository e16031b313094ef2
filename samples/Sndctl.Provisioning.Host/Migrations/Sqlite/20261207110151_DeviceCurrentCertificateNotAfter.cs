using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DeviceCurrentCertificateNotAfter : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "CurrentCertificateNotAfter",
                table: "ProvisioningDevices",
                type: "TEXT",
                nullable: true);

            // Devices that hold a certificate already: its end, from the certificate they point at.
            migrationBuilder.Sql("UPDATE \"ProvisioningDevices\" SET \"CurrentCertificateNotAfter\" = (SELECT c.\"NotAfter\" FROM \"ProvisioningCertificates\" AS c WHERE c.\"Id\" = \"ProvisioningDevices\".\"CurrentCertificateId\") WHERE \"CurrentCertificateId\" IS NOT NULL;");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningDevices_CurrentCertificateNotAfter_DeviceId",
                table: "ProvisioningDevices",
                columns: new[] { "CurrentCertificateNotAfter", "DeviceId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ProvisioningDevices_CurrentCertificateNotAfter_DeviceId",
                table: "ProvisioningDevices");

            migrationBuilder.DropColumn(
                name: "CurrentCertificateNotAfter",
                table: "ProvisioningDevices");
        }
    }
}
