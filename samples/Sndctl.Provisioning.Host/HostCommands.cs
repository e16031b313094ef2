using System.CommandLine;

namespace Sndctl.Provisioning.Host;

/// <summary>
/// The host's commands besides serving (System.CommandLine): <c>health [--url URL]</c>, <c>migrate</c>,
/// <c>backup --out FILE --passphrase-file F</c>, <c>restore --from FILE --passphrase-file F</c>,
/// <c>copy-storage --to-provider PostgreSql --to-connection CS</c> and
/// <c>ca export-root-key --out FILE [--remove]</c>, <c>ca export --out FILE.p12 --passphrase-file F</c>,
/// <c>ca import --from FILE.p12 --passphrase-file F</c>, <c>ca rollover-intermediate [--root-key FILE]</c>, <c>keyring rewrap</c>, each with <c>--help</c>. They read the same configuration as
/// the server (settings files, environment). Exit codes: 0 done, 1 the health probe failed, 2 usage,
/// 3 refused (the message says why). Without a command, the host serves.
/// </summary>
internal static class HostCommands
{
    private static readonly string[] s_commands = ["health", "ca", "migrate", "backup", "restore", "copy-storage", "keyring"];

    /// <summary>Whether <paramref name="args"/> name a command rather than the server's own arguments (<c>--urls</c>, settings).</summary>
    public static bool IsCommand(string[] args) => args.Length > 0 && s_commands.Contains(args[0], StringComparer.Ordinal);

    /// <summary>Runs the command; <paramref name="buildApp"/> builds the host with its configuration, for commands that need it.</summary>
    public static async Task<int> RunAsync(string[] args, Func<HostSettings?> readSettings, Func<WebApplication?> buildApp)
    {
        var backupOut = new Option<string>("--out") { Description = "The backup file to write (encrypted); an existing file is never overwritten.", Required = true };
        var backupPassphrase = new Option<string>("--passphrase-file") { Description = "The file whose first line (12+ characters) is the backup's passphrase.", Required = true };
        var backup = new Command("backup", "Write an encrypted, consistent copy of everything a SQLite deployment needs (database, key-ring certificate, admin key file); safe while the server runs.") { backupOut, backupPassphrase };
        backup.SetAction(async (result, _) => readSettings() is { } settings
            ? await BackupCommands.BackupAsync(settings, result.GetValue(backupOut)!, result.GetValue(backupPassphrase)!).ConfigureAwait(false)
            : 2);

        var restoreFrom = new Option<string>("--from") { Description = "The backup file.", Required = true };
        var restorePassphrase = new Option<string>("--passphrase-file") { Description = "The file whose first line is the backup's passphrase.", Required = true };
        var restore = new Command("restore", "Restore a backup into the (empty) data directory of this configuration; refuses a directory that holds anything.") { restoreFrom, restorePassphrase };
        restore.SetAction(async (result, _) => readSettings() is { } settings
            ? await BackupCommands.RestoreAsync(settings, result.GetValue(restoreFrom)!, result.GetValue(restorePassphrase)!).ConfigureAwait(false)
            : 2);

        var url = new Option<string>("--url") { Description = "The liveness endpoint to ask.", DefaultValueFactory = _ => HealthProbe.DefaultUrl };
        var health = new Command("health", "Ask a running host's liveness endpoint: exit 0 when it answers 200, 1 otherwise (for container health checks; reads no configuration).") { url };
        health.SetAction((result, _) => HealthProbe.RunAsync(result.GetValue(url)!));

        var output = new Option<string>("--out") { Description = "Where to write the root key (PEM, mode 0600); an existing file is never overwritten.", Required = true };
        var remove = new Option<bool>("--remove") { Description = "Remove the key from the database once the written file reads back as that key." };
        var passphraseFile = new Option<string>("--passphrase-file") { Description = "Encrypt the key (PKCS#8, AES-256) with the passphrase on this file's first line; openssl reads it with -passin file:FILE." };
        var unencrypted = new Option<bool>("--unencrypted") { Description = "Write the key in clear (PEM): only onto media you keep offline yourself." };
        var exportRootKey = new Command("export-root-key", "Write the private CA's root key for offline keeping (making any missing intermediate first); encrypted with --passphrase-file unless --unencrypted is said.") { output, remove, passphraseFile, unencrypted };
        exportRootKey.Validators.Add(result =>
        {
            if ((result.GetValue(passphraseFile) is null) == !result.GetValue(unencrypted))
            {
                result.AddError("Give --passphrase-file FILE to encrypt the root key, or say --unencrypted to write it in clear (one of them).");
            }
        });
        exportRootKey.SetAction(async (result, _) => buildApp() is { } app
            ? await AdminCommands.ExportRootKeyAsync(app, result.GetValue(output)!, result.GetValue(remove), result.GetValue(passphraseFile)).ConfigureAwait(false)
            : 2);

        var caOut = new Option<string>("--out") { Description = "The PKCS#12 file to write (mode 0600); an existing file is never overwritten.", Required = true };
        var caOutPassphrase = new Option<string>("--passphrase-file") { Description = "The file whose first line (12+ characters) encrypts the PKCS#12.", Required = true };
        var caExport = new Command("export", "Write the private CA (root, issuing and CSR CAs with their keys; the root key unless it was taken offline) as passphrase-encrypted PKCS#12.") { caOut, caOutPassphrase };
        caExport.SetAction(async (result, _) => buildApp() is { } app
            ? await AdminCommands.ExportCaAsync(app, result.GetValue(caOut)!, result.GetValue(caOutPassphrase)!).ConfigureAwait(false)
            : 2);
        var caFrom = new Option<string>("--from") { Description = "The PKCS#12 file (from ca export, or a root and an issuing CA with its key from openssl).", Required = true };
        var caFromPassphrase = new Option<string>("--passphrase-file") { Description = "The file whose first line is the PKCS#12's passphrase.", Required = true };
        var caImport = new Command("import", "Store a private CA from passphrase-encrypted PKCS#12 in a deployment that has none yet (before its first start, or after migrate).") { caFrom, caFromPassphrase };
        caImport.SetAction(async (result, _) => buildApp() is { } app
            ? await AdminCommands.ImportCaAsync(app, result.GetValue(caFrom)!, result.GetValue(caFromPassphrase)!).ConfigureAwait(false)
            : 2);

        var rolloverRootKey = new Option<string>("--root-key") { Description = "The root key exported with export-root-key, when it is no longer in the database." };
        var rolloverPassphrase = new Option<string>("--passphrase-file") { Description = "The passphrase of an encrypted --root-key." };
        var rollover = new Command("rollover-intermediate", "Make a new device issuing CA under the same root (a new key); devices' certificates issued before keep verifying. Restart the instances afterwards.") { rolloverRootKey, rolloverPassphrase };
        rollover.SetAction(async (result, _) => buildApp() is { } app
            ? await AdminCommands.RollOverIntermediateAsync(app, result.GetValue(rolloverRootKey), result.GetValue(rolloverPassphrase)).ConfigureAwait(false)
            : 2);

        var migrate = new Command("migrate", "Apply the database migrations of this version and exit (a deployment job; with Provisioning:Storage:MigrateOnStart=false the server does not migrate at start). Several at once are serialized.");
        migrate.SetAction(async (_, _) => buildApp() is { } app ? await AdminCommands.MigrateAsync(app).ConfigureAwait(false) : 2);

        var toProvider = new Option<StorageKind>("--to-provider") { Description = "The target's provider: PostgreSql (or Sqlite, to move back).", Required = true };
        var toConnection = new Option<string>("--to-connection") { Description = "The target's connection string; its database is migrated and must be empty.", Required = true };
        var copyStorage = new Command("copy-storage", "Copy everything this configuration's database holds into another (empty) database and verify every table's row count; the source is only read (a consistent snapshot, safe while the server runs).") { toProvider, toConnection };
        copyStorage.SetAction(async (result, _) => readSettings() is { } settings && buildApp() is { } app
            ? await StorageCopy.RunAsync(app, settings, result.GetValue(toProvider), result.GetValue(toConnection)!).ConfigureAwait(false)
            : 2);

        var rewrap = new Command("rewrap", "Re-encrypt every key of the key ring in the database with the current key-ring certificate (Provisioning:DataProtection:CertificateFile), decrypting with it or one of PreviousCertificates; afterwards the previous certificates can be retired.");
        rewrap.SetAction(async (_, _) => buildApp() is { } app ? await KeyRingCommands.RewrapAsync(app).ConfigureAwait(false) : 2);

        var root = new RootCommand("Sndctl.Provisioning reference host. Without a command it serves (--urls, settings as --Provisioning:Key=value).")
        {
            health,
            migrate,
            backup,
            restore,
            copyStorage,
            new Command("keyring", "The Data Protection key ring's certificate.") { rewrap },
            new Command("ca", "The private CA.") { exportRootKey, caExport, caImport, rollover },
        };

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync($"Run with --help for usage.").ConfigureAwait(false);
            return 2;
        }

        return await parsed.InvokeAsync().ConfigureAwait(false);
    }
}
