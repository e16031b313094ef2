using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CsrRetentionAndQueueClaims : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "HoldsFrom",
                table: "ProvisioningIssuanceQueue",
                type: "TEXT",
                nullable: false,
                defaultValue: new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified));

            migrationBuilder.AddColumn<DateTime>(
                name: "HoldsUntil",
                table: "ProvisioningIssuanceQueue",
                type: "TEXT",
                nullable: false,
                defaultValue: new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified));

            // Entries queued before claims existed hold their slot for as long as they live, as they did.
            migrationBuilder.Sql("UPDATE \"ProvisioningIssuanceQueue\" SET \"HoldsFrom\" = \"EnqueuedAt\", \"HoldsUntil\" = \"ExpectedBy\";");

            migrationBuilder.AlterColumn<string>(
                name: "CsrPem",
                table: "ProvisioningCsrRequests",
                type: "TEXT",
                maxLength: 16384,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 16384);

            migrationBuilder.AddColumn<string>(
                name: "CsrSha256",
                table: "ProvisioningCsrRequests",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningCsrRequests_CsrSha256",
                table: "ProvisioningCsrRequests",
                column: "CsrSha256");

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningCsrRequests_Status_NotAfter",
                table: "ProvisioningCsrRequests",
                columns: new[] { "Status", "NotAfter" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ProvisioningCsrRequests_CsrSha256",
                table: "ProvisioningCsrRequests");

            migrationBuilder.DropIndex(
                name: "IX_ProvisioningCsrRequests_Status_NotAfter",
                table: "ProvisioningCsrRequests");

            migrationBuilder.DropColumn(
                name: "HoldsFrom",
                table: "ProvisioningIssuanceQueue");

            migrationBuilder.DropColumn(
                name: "HoldsUntil",
                table: "ProvisioningIssuanceQueue");

            migrationBuilder.DropColumn(
                name: "CsrSha256",
                table: "ProvisioningCsrRequests");

            migrationBuilder.AlterColumn<string>(
                name: "CsrPem",
                table: "ProvisioningCsrRequests",
                type: "TEXT",
                maxLength: 16384,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 16384,
                oldNullable: true);
        }
    }
}
