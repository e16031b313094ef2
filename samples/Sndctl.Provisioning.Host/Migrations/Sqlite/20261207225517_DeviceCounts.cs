using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Sndctl.Provisioning.Host.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DeviceCounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ProvisioningDeviceCounts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    NameResolution = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    SecretOrigin = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Count = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProvisioningDeviceCounts", x => x.Id);
                });

            // The database keeps the fleet's counts itself (triggers on the devices table), starting from the devices there now.
            migrationBuilder.KeepProvisioningDeviceCounts(TargetModel);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.StopKeepingProvisioningDeviceCounts(TargetModel);
            migrationBuilder.DropTable(
                name: "ProvisioningDeviceCounts");
        }
    }
}
