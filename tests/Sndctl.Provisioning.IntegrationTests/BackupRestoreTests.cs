using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// <c>backup</c> while the server runs, <c>restore</c> into an empty directory: the same CA, and an existing device
/// gets its same certificate (and its server-made key, which only the restored key ring can decrypt) with its secret.
/// </summary>
public sealed class BackupRestoreTests : HostCommandTest
{
    private const string AdminKey = "backup-test-admin-key-0123456789abcdef0123456";

    [Fact]
    public async Task A_backup_taken_while_serving_restores_into_an_empty_directory_with_the_same_CA_and_certificates()
    {
        var original = Path.Combine(Work, "original");
        var restored = Path.Combine(Work, "restored");
        await File.WriteAllTextAsync(Path.Combine(Work, "passphrase"), "a long backup passphrase\n");
        await File.WriteAllTextAsync(Path.Combine(Work, "wrong"), "not the backup passphrase\n");

        string root, certificate, privateKey;
        CreatedDevice device;
        await using (var host = HostProcess.Start(Environment(original)))
        {
            await host.WaitReadyAsync();
            using var admin = host.CreateClient(AdminKey);
            device = (await (await admin.PostAsJsonAsync("/api/admin/devices", new { })).Content.ReadFromJsonAsync<CreatedDevice>())!;
            using var client = host.CreateClient();
            root = await client.GetStringAsync("/api/v1/ca/root.pem");
            var registered = await Register(client, device);
            certificate = registered.GetProperty("certificate").GetString()!;
            privateKey = registered.GetProperty("privateKey").GetString()!;

            var backup = await Host(["backup", "--out", "backup.bin", "--passphrase-file", "passphrase"], Environment(original));
            Assert.True(backup.ExitCode == 0, backup.Output + backup.Error);
            var again = await Host(["backup", "--out", "backup.bin", "--passphrase-file", "passphrase"], Environment(original));
            Assert.Equal(3, again.ExitCode); // never overwritten
            host.Kill();
        }

        var bytes = await File.ReadAllBytesAsync(Path.Combine(Work, "backup.bin"));
        Assert.DoesNotContain("BEGIN", System.Text.Encoding.ASCII.GetString(bytes), StringComparison.Ordinal); // encrypted
        Assert.Equal(-1, bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(AdminKey)));

        var wrong = await Host(["restore", "--from", "backup.bin", "--passphrase-file", "wrong"], Environment(restored));
        Assert.Equal(3, wrong.ExitCode);
        Assert.False(Directory.Exists(restored) && Directory.EnumerateFileSystemEntries(restored).Any());

        var restore = await Host(["restore", "--from", "backup.bin", "--passphrase-file", "passphrase"], Environment(restored));
        Assert.True(restore.ExitCode == 0, restore.Output + restore.Error);
        var over = await Host(["restore", "--from", "backup.bin", "--passphrase-file", "passphrase"], Environment(restored));
        Assert.Equal(3, over.ExitCode);
        Assert.Contains("not empty", over.Error, StringComparison.Ordinal);

        await using (var host = HostProcess.Start(Environment(restored)))
        {
            await host.WaitReadyAsync();
            using var client = host.CreateClient();
            Assert.Equal(root, await client.GetStringAsync("/api/v1/ca/root.pem"));
            var served = await Register(client, device);
            Assert.Equal(certificate, served.GetProperty("certificate").GetString());
            Assert.Equal(privateKey, served.GetProperty("privateKey").GetString());
            host.Kill();
        }
    }

    [Fact]
    public async Task A_database_copied_with_sqlite3_backup_in_rollback_journal_mode_starts_the_server()
    {
        // What `sqlite3 provisioning.db ".backup copy.db"` (docs/operations.md) gives: a copy not in WAL mode.
        var data = Path.Combine(Work, "copied");
        await using (var first = HostProcess.Start(Environment(data)))
        {
            await first.WaitReadyAsync();
            first.Kill();
        }

        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(data, "provisioning.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;";
            await command.ExecuteNonQueryAsync();
        }

        await using var host = HostProcess.Start(Environment(data));
        await host.WaitReadyAsync();
        using var admin = host.CreateClient(AdminKey);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/admin/devices", new { })).StatusCode);
        host.Kill();
    }

    private Dictionary<string, string?> Environment(string data) => new()
    {
        ["Provisioning__DataDirectory"] = data,
        ["Provisioning__Admin__ApiKeys__0"] = AdminKey,
    };

    private static async Task<JsonElement> Register(HttpClient client, CreatedDevice device)
    {
        var response = await client.SendAsync(ProvisioningHostFactory.Register(device));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
