using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class IssuanceQueueServerKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "ServerMadeKey",
                table: "ProvisioningIssuanceQueue",
                type: "boolean",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ServerMadeKey",
                table: "ProvisioningIssuanceQueue");
        }
    }
}
