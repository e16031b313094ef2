using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// Quoted table and column names from the EF model, for the few statements written as SQL (atomic
/// upserts that LINQ cannot express); every value in them is a parameter.
/// </summary>
internal static class SqlNames
{
    public const string PostgreSqlProvider = "Npgsql.EntityFrameworkCore.PostgreSQL";
    public const string SqliteProvider = "Microsoft.EntityFrameworkCore.Sqlite";

    public static (string Table, Func<string, string> Column) Of<TEntity>(DbContext context)
    {
        var entity = context.Model.FindEntityType(typeof(TEntity))
            ?? throw new InvalidOperationException($"{typeof(TEntity).Name} is not in the model: call modelBuilder.UseDeviceProvisioning() in OnModelCreating.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var qualified = entity.GetSchema() is { } schema ? Quote(schema) + "." + Quote(table.Name) : Quote(table.Name);
        return (qualified, property => Quote(entity.FindProperty(property)!.GetColumnName(table)!));
    }

    /// <summary>Quotes an identifier the way both supported databases accept.</summary>
    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
