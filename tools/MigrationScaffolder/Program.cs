// Scaffolds an EF Core migration for each of the host's providers, as 'dotnet ef migrations add' would.
// Usage: dotnet run --project tools/MigrationScaffolder -- <MigrationName>
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Design.Internal;
using Microsoft.EntityFrameworkCore.Migrations.Design;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Host.Data;

if (args.Length != 1)
{
    Console.Error.WriteLine("Usage: dotnet run --project tools/MigrationScaffolder -- <MigrationName>");
    return 2;
}

var hostDirectory = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../samples/Sndctl.Provisioning.Host"));
Scaffold(new SqliteDesignTimeFactory().CreateDbContext([]), "Sqlite");
Scaffold(new PostgreSqlDesignTimeFactory().CreateDbContext([]), "PostgreSql");
return 0;

void Scaffold(DbContext context, string provider)
{
    using (context)
    {
        var assembly = typeof(HostDbContext).Assembly;
        var reporter = new OperationReporter(new OperationReportHandler(
            e => Console.Error.WriteLine(e), w => Console.Error.WriteLine(w), i => Console.WriteLine(i), _ => { }));
        var services = new DesignTimeServicesBuilder(assembly, assembly, reporter, []).Build(context);
        var scaffolder = services.GetRequiredService<IMigrationsScaffolder>();
        var migration = scaffolder.ScaffoldMigration(args[0], "Sndctl.Provisioning.Host", "Migrations." + provider);
        var files = scaffolder.Save(hostDirectory, migration, Path.Combine(hostDirectory, "Migrations", provider));
        Console.WriteLine($"{provider}: {files.MigrationFile}");
    }
}
