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
        var (table, column, _, _) = Named<TEntity>(context.Model);
        return (table, column);
    }

    /// <summary>The qualified table name, its columns, and the unquoted schema and table name, from a model (a context's, or a migration's target model).</summary>
    public static (string Table, Func<string, string> Column, string? Schema, string Name) Named<TEntity>(IReadOnlyModel model)
    {
        var entity = model.FindEntityType(typeof(TEntity))
            ?? throw new InvalidOperationException($"{typeof(TEntity).Name} is not in the model: call modelBuilder.UseDeviceProvisioning() in OnModelCreating.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var qualified = entity.GetSchema() is { } schema ? Quote(schema) + "." + Quote(table.Name) : Quote(table.Name);
        return (qualified, property => Quote(entity.FindProperty(property)!.GetColumnName(table)!), entity.GetSchema(), table.Name);
    }

    /// <summary>Quotes an identifier the way both supported databases accept.</summary>
    public static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
