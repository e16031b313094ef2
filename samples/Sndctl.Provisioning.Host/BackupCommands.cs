using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Sndctl.Provisioning.Host;

/// <summary>
/// <c>backup --out FILE --passphrase-file F</c> and <c>restore --from FILE --passphrase-file F</c>: everything a
/// SQLite deployment needs to come back — a consistent copy of the database (taken while the server runs), the
/// key-ring certificate that unlocks the keys in it, and the admin key file — in one file encrypted with a
/// passphrase (AES-256-GCM, key from PBKDF2-SHA256). Restore refuses a data directory that is not empty.
/// PostgreSQL deployments back up the database with pg_dump and the key-ring certificate beside it (docs/operations.md).
/// Exit codes: 0 done, 3 refused.
/// </summary>
internal static class BackupCommands
{
    private const string Database = "provisioning.db";
    private static readonly byte[] s_magic = "SNDCTL-BACKUP-1\n"u8.ToArray();
    private const int Iterations = 600_000;

    public static async Task<int> BackupAsync(HostSettings settings, string output, string passphraseFile)
    {
        if (await AdminCommands.PassphraseAsync(passphraseFile) is not { } passphrase)
        {
            return 3;
        }

        if (settings.Storage != StorageKind.Sqlite)
        {
            await Console.Error.WriteLineAsync("backup copies a SQLite deployment; on PostgreSQL use pg_dump for the database and keep the key-ring certificate (Provisioning:DataProtection:CertificateFile) with it: see docs/operations.md.");
            return 3;
        }

        if (File.Exists(output))
        {
            await Console.Error.WriteLineAsync($"{output} exists; refusing to overwrite a backup.");
            return 3;
        }

        var database = DatabaseFile(settings);
        if (!File.Exists(database))
        {
            await Console.Error.WriteLineAsync($"There is no database at {database}: nothing to back up.");
            return 3;
        }

        var snapshot = Path.Combine(Path.GetTempPath(), "sndctl-backup-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            // VACUUM INTO: a consistent copy while the server writes (a copy of a WAL database's files is not).
            await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly }.ConnectionString))
            {
                await connection.OpenAsync();
                await using var vacuum = connection.CreateCommand();
                vacuum.CommandText = "VACUUM INTO $path";
                vacuum.Parameters.AddWithValue("$path", snapshot);
                await vacuum.ExecuteNonQueryAsync();
            }

            // The copy comes out in rollback-journal mode; a deployment's database is in WAL (the server switches a new
            // file at its first connection, but not one it finds in the other mode while it migrates): restore it as it was.
            await using (var copy = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = snapshot, Pooling = false }.ConnectionString))
            {
                await copy.OpenAsync();
                await using var wal = copy.CreateCommand();
                wal.CommandText = "PRAGMA journal_mode=WAL; PRAGMA wal_checkpoint(TRUNCATE);";
                await wal.ExecuteNonQueryAsync();
            }

            var files = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [Database] = await File.ReadAllBytesAsync(snapshot) };
            var keyRing = settings.Options.DataProtection.CertificateFile is { Length: > 0 } configured ? configured : Path.Combine(settings.DataDirectory, DataDirectory.KeyRingCertificateFile);
            if (File.Exists(keyRing))
            {
                files[DataDirectory.KeyRingCertificateFile] = await File.ReadAllBytesAsync(keyRing);
            }

            var adminKey = Path.Combine(settings.DataDirectory, DataDirectory.AdminKeyFile);
            if (File.Exists(adminKey))
            {
                files[DataDirectory.AdminKeyFile] = await File.ReadAllBytesAsync(adminKey);
            }

            var sealedBackup = Seal(Archive(files), passphrase);
            if (!DataDirectory.TryWriteNew(output, sealedBackup))
            {
                await Console.Error.WriteLineAsync($"{output} exists; refusing to overwrite a backup.");
                return 3;
            }

            Console.WriteLine($"Backed up {string.Join(", ", files.Keys.Order(StringComparer.Ordinal))} to {output} ({sealedBackup.Length} bytes, encrypted).");
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(snapshot);
            File.Delete(snapshot + "-wal");
            File.Delete(snapshot + "-shm");
        }
    }

    public static async Task<int> RestoreAsync(HostSettings settings, string input, string passphraseFile)
    {
        if (await AdminCommands.PassphraseAsync(passphraseFile) is not { } passphrase)
        {
            return 3;
        }

        if (settings.Storage != StorageKind.Sqlite)
        {
            await Console.Error.WriteLineAsync("restore writes a SQLite data directory; on PostgreSQL restore the pg_dump with pg_restore and put the key-ring certificate back: see docs/operations.md.");
            return 3;
        }

        var database = DatabaseFile(settings);
        if ((Directory.Exists(settings.DataDirectory) && Directory.EnumerateFileSystemEntries(settings.DataDirectory).Any()) || File.Exists(database))
        {
            await Console.Error.WriteLineAsync($"The data directory {settings.DataDirectory} is not empty; restore only into an empty one (nothing was changed).");
            return 3;
        }

        Dictionary<string, byte[]> files;
        try
        {
            files = Unarchive(Open(await File.ReadAllBytesAsync(input), passphrase));
        }
        catch (Exception ex) when (ex is CryptographicException or InvalidDataException or FileNotFoundException or JsonException)
        {
            await Console.Error.WriteLineAsync($"{input} cannot be opened with that passphrase, or is not a backup of this server ({ex.Message}); nothing was changed.");
            return 3;
        }

        DataDirectory.Ensure(settings.DataDirectory);
        foreach (var (name, content) in files)
        {
            DataDirectory.TryWriteNew(name == Database ? database : Path.Combine(settings.DataDirectory, name), content);
        }

        Console.WriteLine($"Restored {string.Join(", ", files.Keys.Order(StringComparer.Ordinal))} into {settings.DataDirectory}. If the key-ring certificate had a password, set Provisioning:DataProtection:CertificateFile to {Path.Combine(settings.DataDirectory, DataDirectory.KeyRingCertificateFile)} and the same CertificatePassword.");
        return 0;
    }

    /// <summary>The SQLite file of the configuration (the data directory's provisioning.db unless ConnectionStrings:Provisioning says otherwise).</summary>
    private static string DatabaseFile(HostSettings settings)
        => Path.GetFullPath(new SqliteConnectionStringBuilder(settings.ConnectionString).DataSource);

    /// <summary>A zip of the files and a manifest of their SHA-256 digests.</summary>
    private static byte[] Archive(Dictionary<string, byte[]> files)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            var manifest = new Manifest(1, DateTimeOffset.UtcNow, files.ToDictionary(f => f.Key, f => Convert.ToHexString(SHA256.HashData(f.Value)), StringComparer.Ordinal));
            Write(zip, "manifest.json", JsonSerializer.SerializeToUtf8Bytes(manifest));
            foreach (var (name, content) in files)
            {
                Write(zip, name, content);
            }
        }

        return buffer.ToArray();
    }

    private static Dictionary<string, byte[]> Unarchive(byte[] archive)
    {
        using var zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        var manifest = JsonSerializer.Deserialize<Manifest>(Read(zip, "manifest.json")) ?? throw new InvalidDataException("The backup has no manifest.");
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (name, digest) in manifest.Files)
        {
            if (name is not (Database or DataDirectory.KeyRingCertificateFile or DataDirectory.AdminKeyFile))
            {
                throw new InvalidDataException($"The backup names an unexpected file '{name}'.");
            }

            var content = Read(zip, name);
            if (!Convert.ToHexString(SHA256.HashData(content)).Equals(digest, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"'{name}' in the backup does not match its digest.");
            }

            files[name] = content;
        }

        return files.ContainsKey(Database) ? files : throw new InvalidDataException("The backup holds no database.");
    }

    private static void Write(ZipArchive zip, string name, byte[] content)
    {
        using var entry = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
        entry.Write(content);
    }

    private static byte[] Read(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new FileNotFoundException($"The backup has no '{name}'.");
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>magic | salt (16) | nonce (12) | tag (16) | AES-256-GCM ciphertext; the magic is the associated data.</summary>
    private static byte[] Seal(byte[] plaintext, string passphrase)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var nonce = RandomNumberGenerator.GetBytes(12);
        var key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(passphrase), salt, Iterations, HashAlgorithmName.SHA256, 32);
        var output = new byte[s_magic.Length + 16 + 12 + 16 + plaintext.Length];
        s_magic.CopyTo(output, 0);
        salt.CopyTo(output, s_magic.Length);
        nonce.CopyTo(output, s_magic.Length + 16);
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(nonce, plaintext, output.AsSpan(s_magic.Length + 44), output.AsSpan(s_magic.Length + 28, 16), s_magic);
        CryptographicOperations.ZeroMemory(key);
        return output;
    }

    private static byte[] Open(byte[] sealedBackup, string passphrase)
    {
        if (sealedBackup.Length < s_magic.Length + 44 || !sealedBackup.AsSpan(0, s_magic.Length).SequenceEqual(s_magic))
        {
            throw new InvalidDataException("This is not a backup of Sndctl.Provisioning.");
        }

        var salt = sealedBackup.AsSpan(s_magic.Length, 16);
        var nonce = sealedBackup.AsSpan(s_magic.Length + 16, 12);
        var tag = sealedBackup.AsSpan(s_magic.Length + 28, 16);
        var ciphertext = sealedBackup.AsSpan(s_magic.Length + 44);
        var key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(passphrase), salt, Iterations, HashAlgorithmName.SHA256, 32);
        var plaintext = new byte[ciphertext.Length];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(nonce, ciphertext, tag, plaintext, s_magic);
        CryptographicOperations.ZeroMemory(key);
        return plaintext;
    }

    private sealed record Manifest(int Version, DateTimeOffset CreatedAt, Dictionary<string, string> Files);
}
