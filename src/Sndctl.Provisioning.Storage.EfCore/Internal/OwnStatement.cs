using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// A write statement of our own for a hot path: its text (names from the EF model, values as parameters
/// <c>@p0</c>, <c>@p1</c>, ...) and its parameters' type mappings made once per model, then run as one command on the
/// context's connection (in its transaction when one is open) holding the SQLite write gate. On those paths EF's own
/// pipeline (expression funcletizing and the query cache for <c>ExecuteUpdate</c>/<c>ExecuteDelete</c>, the change
/// tracker for <c>SaveChanges</c>) cost more than the statement.
/// </summary>
internal sealed class OwnStatement(Func<DbContext, (string Sql, IReadOnlyList<IProperty?> Parameters)> build)
{
    private readonly ConditionalWeakTable<IModel, Made> _made = [];

    /// <summary>
    /// Runs the statement with <paramref name="values"/> for its parameters in order: a parameter made for a model
    /// property goes through that property's mapping (value converter, provider type), any other as the value itself.
    /// Returns the rows affected.
    /// </summary>
    public async Task<int> ExecuteAsync(DbContext context, CancellationToken cancellationToken, params object?[] values)
    {
        var made = _made.GetValue(context.Model, _ => Make(context));
        return await SqliteWriteGate.WriteGatedAsync(
            context,
            async () =>
            {
                await context.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var command = context.CreateCommand();
                    await using (command.ConfigureAwait(false))
                    {
                        command.CommandText = made.Sql;
                        made.Bind(command, values);
                        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    await context.Database.CloseConnectionAsync().ConfigureAwait(false);
                }
            },
            cancellationToken).ConfigureAwait(false);
    }

    private Made Make(DbContext context)
    {
        var (sql, parameters) = build(context);
        return new Made(sql, [.. parameters.Select(p => p is null ? ((RelationalTypeMapping?)null, false) : (p.GetRelationalTypeMapping(), p.IsNullable))]);
    }

    private sealed record Made(string Sql, (RelationalTypeMapping? Mapping, bool Nullable)[] Parameters)
    {
        public void Bind(DbCommand command, object?[] values)
        {
            if (values.Length != Parameters.Length)
            {
                throw new ArgumentException($"The statement takes {Parameters.Length} values, not {values.Length}.", nameof(values));
            }

            for (var i = 0; i < Parameters.Length; i++)
            {
                var name = "@p" + i;
                if (Parameters[i].Mapping is { } mapping)
                {
                    command.Parameters.Add(mapping.CreateParameter(command, name, values[i], Parameters[i].Nullable));
                }
                else
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = name;
                    parameter.Value = values[i] ?? DBNull.Value;
                    command.Parameters.Add(parameter);
                }
            }
        }
    }
}
