using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Host.Data;
using Sndctl.Provisioning.PrivateCa;

namespace Sndctl.Provisioning.Host;

/// <summary>
/// <c>Sndctl.Provisioning.Host ca export-root-key --out FILE [--remove]</c>: the private CA's root key
/// for offline keeping (written 0600), optionally removed from the database afterwards. Exit codes:
/// 0 done, 2 usage, 3 refused (see the message).
/// </summary>
internal static class AdminCommands
{
    private const string Usage = "usage: ca export-root-key --out FILE [--remove]";

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        if (args is not ["export-root-key", ..] || Option(args, "--out") is not { Length: > 0 } file)
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
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

        var remove = args.Contains("--remove");
        var rootKey = app.Services.GetRequiredService<PrivateCaRootKey>();
        try
        {
            // On disk first; only a key that is safely written is removed from the database.
            var pem = await rootKey.ExportAsync(CancellationToken.None);
            if (!DataDirectory.TryWriteNew(file, System.Text.Encoding.UTF8.GetBytes(pem)))
            {
                await Console.Error.WriteLineAsync($"{file} exists; refusing to overwrite a key file.");
                return 3;
            }

            if (remove)
            {
                await rootKey.RemoveFromDatabaseAsync(await File.ReadAllTextAsync(file), CancellationToken.None);
            }
        }
        catch (InvalidOperationException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 3;
        }

        Console.WriteLine(remove
            ? $"Root key written to {file} and removed from the database. Keep it offline; set Provisioning:PrivateCa:RootKeyFile only if an intermediate must be made again."
            : $"Root key written to {file} (still in the database; add --remove to take it out).");
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
