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

    /// <summary><c>ca export --out FILE.p12 --passphrase-file F</c>: the CA as encrypted PKCS#12 (0600, never over a file).</summary>
    public static async Task<int> ExportCaAsync(WebApplication app, string file, string passphraseFile)
    {
        if (await PassphraseAsync(passphraseFile) is not { } passphrase)
        {
            return 3;
        }

        if (File.Exists(file))
        {
            await Console.Error.WriteLineAsync($"{file} exists; refusing to overwrite it.");
            return 3;
        }

        await MigratedAsync(app);
        try
        {
            var pkcs12 = await app.Services.GetRequiredService<PrivateCaArchive>().ExportPkcs12Async(passphrase, CancellationToken.None);
            if (!DataDirectory.TryWriteNew(file, pkcs12))
            {
                await Console.Error.WriteLineAsync($"{file} exists; refusing to overwrite it.");
                return 3;
            }
        }
        catch (InvalidOperationException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 3;
        }

        Console.WriteLine($"The private CA was written to {file} (PKCS#12, encrypted with the passphrase; openssl pkcs12 -info -in {file} -passin file:{passphraseFile}).");
        return 0;
    }

    /// <summary><c>ca import --from FILE.p12 --passphrase-file F</c>: into a deployment without a CA; 3 and nothing stored otherwise.</summary>
    public static async Task<int> ImportCaAsync(WebApplication app, string file, string passphraseFile)
    {
        if (await PassphraseAsync(passphraseFile) is not { } passphrase)
        {
            return 3;
        }

        if (!File.Exists(file))
        {
            await Console.Error.WriteLineAsync($"There is no file {file}.");
            return 3;
        }

        await MigratedAsync(app);
        try
        {
            var fingerprint = await app.Services.GetRequiredService<PrivateCaArchive>().ImportPkcs12Async(await File.ReadAllBytesAsync(file), passphrase, CancellationToken.None);
            Console.WriteLine($"Imported the private CA; its root's SHA-256 fingerprint is {fingerprint}.");
            return 0;
        }
        catch (InvalidOperationException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 3;
        }
    }

    /// <summary><c>ca rollover-intermediate [--root-key FILE [--passphrase-file F]]</c>: a new device issuing CA under the same root.</summary>
    public static async Task<int> RollOverIntermediateAsync(WebApplication app, string? rootKeyFile, string? passphraseFile)
    {
        string? rootKey = null, passphrase = null;
        if (rootKeyFile is not null)
        {
            if (!File.Exists(rootKeyFile))
            {
                await Console.Error.WriteLineAsync($"There is no file {rootKeyFile}.");
                return 3;
            }

            rootKey = await File.ReadAllTextAsync(rootKeyFile);
            if (passphraseFile is not null && (passphrase = await PassphraseAsync(passphraseFile)) is null)
            {
                return 3;
            }
        }

        await MigratedAsync(app);
        try
        {
            var (subject, thumbprint) = await app.Services.GetRequiredService<PrivateCaRootKey>().RollOverIssuingCaAsync(rootKey, passphrase, CancellationToken.None);
            Console.WriteLine($"The device issuing CA is now {subject} (SHA-256 {thumbprint}). Restart every instance, one at a time, to issue under it; certificates issued before keep verifying against the same root.");
            return 0;
        }
        catch (InvalidOperationException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 3;
        }
    }

    private static async Task MigratedAsync(WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<HostDbContext>().Database.MigrateSerializedAsync();
    }

    /// <summary>The first line of <paramref name="passphraseFile"/> (12+ characters), or null after saying what is wrong.</summary>
    internal static async Task<string?> PassphraseAsync(string passphraseFile)
    {
        var passphrase = File.Exists(passphraseFile) ? (await File.ReadAllLinesAsync(passphraseFile)).FirstOrDefault()?.Trim() : null;
        if (string.IsNullOrEmpty(passphrase) || passphrase.Length < 12)
        {
            await Console.Error.WriteLineAsync($"{passphraseFile} must hold a passphrase of at least 12 characters on its first line.");
            return null;
        }

        return passphrase;
    }

    public static async Task<int> ExportRootKeyAsync(WebApplication app, string file, bool remove, string? passphraseFile)
    {
        string? passphrase = null;
        if (passphraseFile is not null && (passphrase = await PassphraseAsync(passphraseFile)) is null)
        {
            return 3;
        }

        if (File.Exists(file))
        {
            await Console.Error.WriteLineAsync($"{file} exists; refusing to overwrite a key file.");
            return 3;
        }

        await MigratedAsync(app);
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
