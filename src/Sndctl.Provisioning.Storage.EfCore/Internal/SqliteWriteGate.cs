using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// SQLite has one writer at a time per file; when several writers of one process meet, the SQLite
/// client retries the loser by sleeping on its thread (a thread-pool thread, under load). This gate
/// makes them wait their turn asynchronously instead: every <c>SaveChanges</c> of the stores
/// (<see cref="SaveChangesGatedAsync"/>), and every write statement outside one (<c>ExecuteUpdate</c>,
/// <c>ExecuteDelete</c>, raw SQL: a command interceptor), holds the file's gate while it runs. It also sets <c>synchronous=NORMAL</c> on each native connection
/// (once: the client pools them) and turns the file to WAL once (readers never wait for the writer; a commit costs no fsync until a checkpoint; a power
/// loss may lose the last commits, never consistency).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One per database file, for the life of the process.")]
internal sealed class SqliteWriteGate : DbConnectionInterceptor, IDbCommandInterceptor
{
    private static readonly ConcurrentDictionary<string, SqliteWriteGate> s_gates = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConditionalWeakTable<DbContext, object> _saving = [];
    private readonly ConditionalWeakTable<DbCommand, object> _holding = [];
    private readonly ConditionalWeakTable<object, object> _configured = [];
    private static (Type Type, System.Reflection.PropertyInfo? Property)? s_handle;
    private readonly Dictionary<object, DbCommand> _commands = new(ReferenceEqualityComparer.Instance);
    private readonly bool _file;
    private DbConnection? _writer;
    private int _walSet;

    private SqliteWriteGate(bool file) => _file = file;

    /// <summary>The gate of one database file (by connection string), shared by every context that opens it.</summary>
    public static SqliteWriteGate For(string connectionString) => s_gates.GetOrAdd(connectionString, _ => new SqliteWriteGate(IsFile(connectionString)));

    /// <summary>A database in a file (a second connection opens the same one): not <c>:memory:</c>, not <c>Mode=Memory</c>, not read-only.</summary>
    private static bool IsFile(string connectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string? Value(params string[] keys) => keys.Select(k => builder.TryGetValue(k, out var v) ? v?.ToString() : null).FirstOrDefault(v => v is not null);
        var source = Value("Data Source", "DataSource", "Filename");
        var mode = Value("Mode");
        return !string.IsNullOrEmpty(source) && source != ":memory:"
            && !string.Equals(mode, "Memory", StringComparison.OrdinalIgnoreCase) && !string.Equals(mode, "ReadOnly", StringComparison.OrdinalIgnoreCase);
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (Pragmas(connection) is not { } pragmas)
        {
            return;
        }

        using var command = connection.CreateCommand();
        command.CommandText = pragmas;
        command.ExecuteNonQuery();
        Configured(connection);
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (Pragmas(connection) is not { } pragmas)
        {
            return;
        }

        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        Configured(connection);
    }

    /// <summary>
    /// What a newly opened connection still needs: nothing when its native connection (Microsoft.Data.Sqlite
    /// pools them, and <c>synchronous</c> is their state) was set before; else <c>synchronous</c>, and WAL
    /// the first time in this process (it is the file's, and stays).
    /// </summary>
    private string? Pragmas(DbConnection connection)
    {
        if (NativeHandle(connection) is { } handle && _configured.TryGetValue(handle, out _))
        {
            return null;
        }

        // EF Core checks that the file exists over a read-only connection: no pragma there (switching a database that
        // is not in WAL yet, one restored from a copy, is a write, and failed the start with "readonly database").
        if (new DbConnectionStringBuilder { ConnectionString = connection.ConnectionString }.TryGetValue("Mode", out var mode)
            && string.Equals(mode?.ToString(), "ReadOnly", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return Interlocked.Exchange(ref _walSet, 1) == 0 ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" : "PRAGMA synchronous=NORMAL;";
    }

    private void Configured(DbConnection connection)
    {
        if (NativeHandle(connection) is { } handle)
        {
            _configured.AddOrUpdate(handle, this);
        }
    }

    /// <summary><c>SqliteConnection.Handle</c> (the native connection's object, the same while pooled), read without referencing the SQLite client.</summary>
    private static object? NativeHandle(DbConnection connection)
    {
        var type = connection.GetType();
        if (s_handle is not { } handle || handle.Type != type)
        {
            s_handle = handle = (type, type.GetProperty("Handle"));
        }

        return handle.Property?.GetValue(connection);
    }

    /// <summary>
    /// Saves <paramref name="context"/>'s changes holding its file's gate when it has one (the gate's
    /// release is in a <c>finally</c>: no failure, cancellation or conflict can leave it held).
    /// </summary>
    public static Task<int> SaveChangesGatedAsync(DbContext context, CancellationToken cancellationToken)
        => WriteGatedAsync(context, () => context.SaveChangesAsync(cancellationToken), cancellationToken);

    /// <summary>
    /// Runs <paramref name="write"/> (statements of <paramref name="context"/>, in a transaction of its own if it likes)
    /// holding its file's gate when it has one; its statements do not take the gate again.
    /// </summary>
    public static async Task<T> WriteGatedAsync<T>(DbContext context, Func<Task<T>> write, CancellationToken cancellationToken)
    {
        if (Of(context) is not { } gate)
        {
            return await write().ConfigureAwait(false);
        }

        await gate._gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        gate._saving.AddOrUpdate(context, gate);
        try
        {
            return await write().ConfigureAwait(false);
        }
        finally
        {
            gate._saving.Remove(context);
            gate._gate.Release();
        }
    }

    private static SqliteWriteGate? Of(DbContext context)
        => context.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.Interceptors?.OfType<SqliteWriteGate>().FirstOrDefault();

    /// <summary>
    /// The gate of <paramref name="context"/>'s file when statements of our own may run on the file's writer connection
    /// (<see cref="OnWriterAsync{T}"/>): a SQLite file, and no transaction of the caller's on the context.
    /// </summary>
    public static SqliteWriteGate? WriterFor(DbContext context)
        => context.Database.CurrentTransaction is null && Of(context) is { _file: true } gate ? gate : null;

    /// <summary>
    /// Runs <paramref name="work"/> holding the gate, with the file's own writer connection: opened on first use and kept
    /// open, used only by the gate's holder, its commands (<see cref="Command"/>) prepared once and kept: Microsoft.Data.Sqlite
    /// keeps no statement cache, and every open of a pooled connection through EF registers EF's SQL functions again.
    /// A failure that may have left the connection unusable closes it (the next write opens another).
    /// </summary>
    public async Task<T> OnWriterAsync<T>(DbContext context, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_writer is null)
            {
                var connection = (DbConnection)Activator.CreateInstance(context.Database.GetDbConnection().GetType())!;
                connection.ConnectionString = context.Database.GetConnectionString();
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                var pragma = connection.CreateCommand();
                await using (pragma.ConfigureAwait(false))
                {
                    pragma.CommandText = "PRAGMA synchronous=NORMAL;";
                    await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                _writer = connection;
            }

            try
            {
                return await work().ConfigureAwait(false);
            }
            catch (DbException)
            {
                await DiscardWriterAsync().ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The writer connection's command for <paramref name="key"/> (made with <paramref name="sql"/> and prepared the first time), its parameters cleared: only inside <see cref="OnWriterAsync{T}"/>.</summary>
    public DbCommand Command(object key, string sql)
    {
        var writer = _writer ?? throw new InvalidOperationException("The writer connection is used inside OnWriterAsync only.");
        if (!_commands.TryGetValue(key, out var command))
        {
            command = writer.CreateCommand();
            command.CommandText = sql;
            command.Prepare();
            _commands.Add(key, command);
        }

        command.Parameters.Clear();
        return command;
    }

    /// <summary>Closes the writer connection and its commands (the next write opens another): only inside <see cref="OnWriterAsync{T}"/>.</summary>
    public async Task DiscardWriterAsync()
    {
        foreach (var command in _commands.Values)
        {
            await command.DisposeAsync().ConfigureAwait(false);
        }

        _commands.Clear();
        if (_writer is { } writer)
        {
            _writer = null;
            await writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    // Write statements outside SaveChanges (queries are readers; in WAL they never wait for the writer).

    public async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (IsOwnWrite(eventData))
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            _holding.AddOrUpdate(command, this);
        }

        return result;
    }

    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        if (IsOwnWrite(eventData))
        {
            _gate.Wait();
            _holding.AddOrUpdate(command, this);
        }

        return result;
    }

    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        EndCommand(command);
        return result;
    }

    public ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        EndCommand(command);
        return ValueTask.FromResult(result);
    }

    public void CommandFailed(DbCommand command, CommandErrorEventData eventData) => EndCommand(command);

    public Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        EndCommand(command);
        return Task.CompletedTask;
    }

    public void CommandCanceled(DbCommand command, CommandEndEventData eventData) => EndCommand(command);

    public Task CommandCanceledAsync(DbCommand command, CommandEndEventData eventData, CancellationToken cancellationToken = default)
    {
        EndCommand(command);
        return Task.CompletedTask;
    }

    /// <summary>A statement of its own: not one of a SaveChanges (which holds the gate already), nor inside an explicit transaction.</summary>
    private bool IsOwnWrite(CommandEventData eventData)
        => eventData.Context is { } context && !_saving.TryGetValue(context, out _) && context.Database.CurrentTransaction is null;

    private void EndCommand(DbCommand command)
    {
        if (_holding.Remove(command))
        {
            _gate.Release();
        }
    }
}
