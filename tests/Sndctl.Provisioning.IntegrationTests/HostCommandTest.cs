namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// A test that runs the reference host's commands (<c>dotnet Sndctl.Provisioning.Host.dll migrate</c> ...) and servers
/// in a working directory of its own, deleted afterwards (SQLite's pooled connections to it closed first).
/// </summary>
public abstract class HostCommandTest : IAsyncLifetime
{
    /// <summary>The test's working directory: the commands run in it, relative paths land in it.</summary>
    protected string Work { get; } = Directory.CreateTempSubdirectory("sndctl-command-").FullName;

    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public virtual ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Work, recursive: true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Runs the host with <paramref name="arguments"/> and <paramref name="environment"/> in <see cref="Work"/>, until it exits.</summary>
    protected Task<(int ExitCode, string Output, string Error)> Host(string[] arguments, IDictionary<string, string?> environment, TimeSpan? timeout = null)
        => ProcessRunner.RunAsync("dotnet", [HostProcess.HostDll, .. arguments], Work, environment, timeout: timeout ?? TimeSpan.FromMinutes(3));
}
