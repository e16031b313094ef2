using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// A write statement of our own for a hot path: its text (names from the EF model, values as parameters
/// <c>@p0</c>, <c>@p1</c>, ...) and its parameters' type mappings made once per model, then run as one command on the
/// context's connection. On those paths EF's own pipeline (expression funcletizing and the query cache for
/// <c>ExecuteUpdate</c>/<c>ExecuteDelete</c>, the change tracker for <c>SaveChanges</c>) cost more than the statement.
/// A parameter is either read from the entity the statement is run for (a model property, through its mapping: value
/// converter, provider type) or the next of the values the caller passes (plain, or through the mapping of the
/// property it names).
/// </summary>
internal sealed class OwnStatement(Func<DbContext, OwnStatement.Text> build)
{
    private readonly Func<DbContext, Text> _build = build;
    private readonly ConditionalWeakTable<IModel, Text> _made = [];

    /// <summary>
    /// A parameter: <paramref name="Property"/> gives its mapping; <paramref name="FromEntity"/> reads its value from the
    /// entity (of a statement for several rows, the <paramref name="Row"/>th entity).
    /// </summary>
    public readonly record struct Parameter(IProperty? Property, bool FromEntity = false, int Row = 0);

    /// <summary>The statement's text and its parameters <c>@p0</c>, <c>@p1</c>, ... in order; <paramref name="Returns"/>: a single value it returns into the entity.</summary>
    public sealed record Text(string Sql, IReadOnlyList<Parameter> Parameters, IProperty? Returns = null);

    /// <summary>
    /// INSERT of a <typeparamref name="TEntity"/> row, every mapped column from the entity but <paramref name="generated"/>,
    /// the store-generated key, which it returns into the entity (as <c>SaveChanges</c> does).
    /// </summary>
    public static OwnStatement Insert<TEntity>(string? generated = null) => new(context =>
    {
        var entity = EntityType<TEntity>(context);
        var (table, column) = SqlNames.Of<TEntity>(context);
        var properties = entity.GetProperties().Where(p => p.Name != generated).ToList();
        var sql = $"{Verb(context, "INSERT")} INTO {table} ({string.Join(", ", properties.Select(p => column(p.Name)))}) VALUES ({string.Join(", ", properties.Select((_, i) => "@p" + i))})";
        var returns = generated is null ? null : entity.FindProperty(generated)!;
        return new Text(returns is null ? sql : sql + " RETURNING " + column(returns.Name), [.. properties.Select(p => new Parameter(p, FromEntity: true))], returns);
    });

    /// <summary>
    /// INSERT of <paramref name="rows"/> <typeparamref name="TEntity"/> rows in one statement, every mapped column from each
    /// entity (a key the database generates is not supported: nothing is returned). Run it with
    /// <see cref="Runner.RunRowsAsync"/>. One statement for many rows: on SQLite a statement that may fire a trigger keeps a
    /// statement journal, paid per statement, not per row.
    /// </summary>
    public static OwnStatement InsertRows<TEntity>(int rows) => new(context =>
    {
        var entity = EntityType<TEntity>(context);
        var (table, column) = SqlNames.Of<TEntity>(context);
        var properties = entity.GetProperties().ToList();
        var values = Enumerable.Range(0, rows).Select(row => "(" + string.Join(", ", properties.Select((_, i) => "@p" + ((row * properties.Count) + i))) + ")");
        var sql = $"{Verb(context, "INSERT")} INTO {table} ({string.Join(", ", properties.Select(p => column(p.Name)))}) VALUES {string.Join(", ", values)}";
        return new Text(sql, [.. Enumerable.Range(0, rows).SelectMany(row => properties.Select(p => new Parameter(p, FromEntity: true, Row: row)))]);
    });

    /// <summary>
    /// UPDATE of the <paramref name="columns"/> (every column when none are named) and the concurrency token of a
    /// <typeparamref name="TEntity"/> row from the entity, found by its key, only while its concurrency token is still the
    /// one value the caller passes (the entity holds the new one). Returns 0 rows otherwise. Name the columns a write
    /// changes where it can: SQLite rewrites the entry of every index that holds a column in the SET list, changed or not.
    /// </summary>
    public static OwnStatement UpdateGuarded<TEntity>(params string[] columns) => new(context =>
    {
        var entity = EntityType<TEntity>(context);
        var (table, column) = SqlNames.Of<TEntity>(context);
        var key = entity.FindPrimaryKey()!.Properties;
        var token = entity.GetProperties().Single(p => p.IsConcurrencyToken);
        var set = entity.GetProperties().Where(p => !p.IsPrimaryKey() && (columns.Length == 0 || p == token || columns.Contains(p.Name))).ToList();
        var where = key.Select((p, i) => $"{column(p.Name)} = @p{set.Count + i}").Append($"{column(token.Name)} = @p{set.Count + key.Count}");
        var sql = $"{Verb(context, "UPDATE")} {table} SET {string.Join(", ", set.Select((p, i) => $"{column(p.Name)} = @p{i}"))} WHERE {string.Join(" AND ", where)}";
        return new Text(sql, [.. set.Concat(key).Select(p => new Parameter(p, FromEntity: true)), new Parameter(token)]);
    });

    /// <summary>
    /// Runs the statement with <paramref name="values"/> for its parameters in order, as a write of its own
    /// (<see cref="WriteAsync{T}"/>). Returns the rows affected.
    /// </summary>
    public Task<int> ExecuteAsync(DbContext context, CancellationToken cancellationToken, params object?[] values)
        => WriteAsync(context, transaction: false, runner => runner.RunAsync(this, null, cancellationToken, values), cancellationToken);

    /// <summary>
    /// Runs statements of our own as one write, in one transaction when <paramref name="transaction"/> (rolled back if
    /// <paramref name="work"/> throws), holding SQLite's write gate. On SQLite, outside any transaction of the caller's,
    /// they run on the file's own writer connection, each prepared once (<see cref="SqliteWriteGate.OnWriterAsync{T}"/>);
    /// else on the context's connection, in the caller's transaction when it has one.
    /// </summary>
    public static Task<T> WriteAsync<T>(DbContext context, bool transaction, Func<Runner, Task<T>> work, CancellationToken cancellationToken)
    {
        if (SqliteWriteGate.WriterFor(context) is { } gate)
        {
            var runner = new Runner(context, gate);
            return gate.OnWriterAsync(
                context,
                async () =>
                {
                    if (!transaction)
                    {
                        return await work(runner).ConfigureAwait(false);
                    }

                    await runner.ExecuteAsync(s_begin, cancellationToken).ConfigureAwait(false);
                    try
                    {
                        var result = await work(runner).ConfigureAwait(false);
                        // Not cancellable once the work is done: a commit skipped would leave the writer connection in
                        // a transaction holding the file's write lock.
                        await runner.ExecuteAsync(s_commit, CancellationToken.None).ConfigureAwait(false);
                        return result;
                    }
                    catch
                    {
                        try
                        {
                            await runner.ExecuteAsync(s_rollback, CancellationToken.None).ConfigureAwait(false);
                        }
                        catch (DbException)
                        {
                            // SQLite may have rolled back already (some errors end the transaction themselves); in any
                            // other state the connection is closed rather than reused. The first failure is the one told.
                            await gate.DiscardWriterAsync().ConfigureAwait(false);
                        }

                        throw;
                    }
                },
                cancellationToken);
        }

        return SqliteWriteGate.WriteGatedAsync(
            context,
            async () =>
            {
                var runner = new Runner(context, null);
                if (transaction)
                {
                    return await context.InTransactionAsync(() => work(runner), cancellationToken).ConfigureAwait(false);
                }

                await context.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    return await work(runner).ConfigureAwait(false);
                }
                finally
                {
                    await context.Database.CloseConnectionAsync().ConfigureAwait(false);
                }
            },
            cancellationToken);
    }

    private static readonly Text s_begin = new("BEGIN IMMEDIATE", []);
    private static readonly Text s_commit = new("COMMIT", []);
    private static readonly Text s_rollback = new("ROLLBACK", []);

    /// <summary>Runs statements of one write (<see cref="WriteAsync{T}"/>): on the file's writer connection, or the context's.</summary>
    public sealed class Runner
    {
        private readonly DbContext _context;
        private readonly SqliteWriteGate? _writer;

        internal Runner(DbContext context, SqliteWriteGate? writer) => (_context, _writer) = (context, writer);

        /// <summary>
        /// Runs <paramref name="statement"/> for <paramref name="entity"/> (and <paramref name="values"/> for the parameters not
        /// read from it). Returns the rows affected.
        /// </summary>
        public Task<int> RunAsync(OwnStatement statement, object? entity, CancellationToken cancellationToken, params object?[] values)
            => RunRowsAsync(statement, [entity], cancellationToken, values);

        /// <summary>
        /// Runs <paramref name="statement"/> for <paramref name="entities"/> (a statement for several rows, <see cref="InsertRows{TEntity}"/>:
        /// as many as it has rows). Returns the rows affected.
        /// </summary>
        public async Task<int> RunRowsAsync(OwnStatement statement, IReadOnlyList<object?> entities, CancellationToken cancellationToken, params object?[] values)
        {
            var entity = entities[0];
            var text = statement._made.GetValue(_context.Model, _ => statement._build(_context));
            var command = _writer?.Command(text, text.Sql) ?? _context.CreateCommand();
            try
            {
                if (_writer is null)
                {
                    command.CommandText = text.Sql;
                }

                Bind(command, text.Parameters, entities, values);
                if (text.Returns is not { } returns)
                {
                    return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                returns.PropertyInfo!.SetValue(entity, Convert.ChangeType(value, returns.ClrType, System.Globalization.CultureInfo.InvariantCulture));
                return 1;
            }
            finally
            {
                if (_writer is null)
                {
                    await command.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        internal Task<int> ExecuteAsync(Text text, CancellationToken cancellationToken)
            => _writer!.Command(text, text.Sql).ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Bind(DbCommand command, IReadOnlyList<Parameter> parameters, IReadOnlyList<object?> entities, object?[] values)
    {
        var next = 0;
        for (var i = 0; i < parameters.Count; i++)
        {
            var (property, fromEntity, row) = parameters[i];
            if (!fromEntity && next == values.Length)
            {
                throw new ArgumentException($"The statement takes more than {values.Length} values.", nameof(values));
            }

            var value = fromEntity ? property!.GetGetter().GetClrValueUsingContainingEntity(entities[row]!) : values[next++];
            var name = "@p" + i;
            if (property is not null)
            {
                command.Parameters.Add(property.GetRelationalTypeMapping().CreateParameter(command, name, value, property.IsNullable));
            }
            else
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value ?? DBNull.Value;
                command.Parameters.Add(parameter);
            }
        }

        if (next != values.Length)
        {
            throw new ArgumentException($"The statement takes {next} values, not {values.Length}.", nameof(values));
        }
    }

    /// <summary>
    /// The statement's verb. On SQLite "OR FAIL": a statement that may fire a trigger (every device write: the device
    /// counts) and may abort on a constraint keeps a statement journal, a temporary file made for each run inside a
    /// transaction, so that an abort undoes the statement alone; with FAIL nothing needs undoing by the statement (it
    /// stops where it failed) and no journal is kept. Every statement of our own runs alone or in a transaction that a
    /// failure rolls back whole, so what a failed statement had written never stays.
    /// </summary>
    private static string Verb(DbContext context, string verb)
        => context.Database.ProviderName == SqlNames.SqliteProvider ? verb + " OR FAIL" : verb;

    private static IEntityType EntityType<TEntity>(DbContext context)
        => context.Model.FindEntityType(typeof(TEntity))
            ?? throw new InvalidOperationException($"{typeof(TEntity).Name} is not in the model: call modelBuilder.UseDeviceProvisioning() in OnModelCreating.");
}
