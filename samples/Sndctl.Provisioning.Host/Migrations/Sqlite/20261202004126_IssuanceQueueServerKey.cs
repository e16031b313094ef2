using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.Sqlite
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
                type: "INTEGER",
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
