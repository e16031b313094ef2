using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Host.Data;
using Sndctl.Provisioning.PrivateCa;

namespace Sndctl.Provisioning.Host;

/// <summary>
/// <c>Sndctl.Provisioning.Host ca export-root-key --out FILE [--remove]</c> (<see cref="HostCommands"/>): the private
/// CA's root key for offline keeping (written 0600), optionally removed from the database afterwards. Exit codes:
/// 0 done, 3 refused (see the message).
/// </summary>
internal static class AdminCommands
{
    /// <summary><c>migrate</c>: applies what is pending (serialized across instances), says what it did. 3 when the database refuses.</summary>
    public static async Task<int> MigrateAsync(WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<HostDbContext>().Database;
        try
        {
            var pending = (await database.GetPendingMigrationsAsync()).ToList();
            await database.MigrateSerializedAsync();
            Console.WriteLine(pending.Count == 0 ? "The database is up to date." : $"Applied {pending.Count} migration(s): {string.Join(", ", pending)}.");
            return 0;
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"The database refused the migration: {ex.Message}");
            return 3;
        }
    }

    public static async Task<int> ExportRootKeyAsync(WebApplication app, string file, bool remove, string? passphraseFile)
    {
        string? passphrase = null;
        if (passphraseFile is not null)
        {
            passphrase = File.Exists(passphraseFile) ? (await File.ReadAllLinesAsync(passphraseFile)).FirstOrDefault()?.Trim() : null;
            if (string.IsNullOrEmpty(passphrase) || passphrase.Length < 12)
            {
                await Console.Error.WriteLineAsync($"{passphraseFile} must hold a passphrase of at least 12 characters on its first line.");
                return 3;
            }
        }

        if (File.Exists(file))
        {
            await Console.Error.WriteLineAsync($"{file} exists; refusing to overwrite a key file.");
            return 3;
        }

        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<HostDbContext>().Database.MigrateSerializedAsync();
        }

        var rootKey = app.Services.GetRequiredService<PrivateCaRootKey>();
        try
        {
            // On disk first; only a key that is safely written is removed from the database.
            var pem = passphrase is null ? await rootKey.ExportAsync(CancellationToken.None) : await rootKey.ExportAsync(passphrase, CancellationToken.None);
            if (!DataDirectory.TryWriteNew(file, System.Text.Encoding.UTF8.GetBytes(pem)))
            {
                await Console.Error.WriteLineAsync($"{file} exists; refusing to overwrite a key file.");
                return 3;
            }

            if (remove)
            {
                await rootKey.RemoveFromDatabaseAsync(await File.ReadAllTextAsync(file), passphrase, CancellationToken.None);
            }
        }
        catch (InvalidOperationException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 3;
        }

        var form = passphrase is null ? "in clear" : "encrypted with the passphrase";
        Console.WriteLine(remove
            ? $"Root key written to {file} ({form}) and removed from the database. Keep it offline; set Provisioning:PrivateCa:RootKeyFile (and RootKeyPassphraseFile) only if an intermediate must be made again."
            : $"Root key written to {file} ({form}; still in the database: add --remove to take it out).");
        return 0;
    }
}
