using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class IssuanceQueue : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ProvisioningIssuanceQueue",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 253, nullable: false),
                    Bucket = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    ServerMadeKey = table.Column<bool>(type: "INTEGER", nullable: false),
                    EnqueuedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ExpectedBy = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningIssuanceQueue", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningIssuanceQueue_Bucket_Id",
                table: "ProvisioningIssuanceQueue",
                columns: new[] { "Bucket", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_ProvisioningIssuanceQueue_Subject",
                table: "ProvisioningIssuanceQueue",
                column: "Subject",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ProvisioningIssuanceQueue");
        }
    }
}
