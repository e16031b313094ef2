using System.Diagnostics;

namespace Sndctl.Provisioning.IntegrationTests.Device;

/// <summary>
/// Runs the reference device agent (clients/sh/sndctl-device) as a device would: <c>busybox sh</c> with a PATH that
/// holds BusyBox's applets, curl and openssl and nothing else.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class DeviceAgent
{
    public static readonly string Script = Path.Combine(DeploymentManifestTests.RepositoryRoot(), "clients", "sh", "sndctl-device");

    public DeviceAgent(string work)
    {
        Work = work;
        Bin = DevicePath(Path.Combine(work, "bin"));
    }

    public static string Busybox => File.Exists("/usr/bin/busybox") ? "/usr/bin/busybox" : "/bin/busybox";

    public string Work { get; }

    /// <summary>The device's PATH: BusyBox applets, curl and openssl.</summary>
    public string Bin { get; }

    /// <summary>A directory of BusyBox applets plus curl and openssl: all the agent may use.</summary>
    public static string DevicePath(string directory)
    {
        Directory.CreateDirectory(directory);
        var applets = ProcessRunner.RunAsync(Busybox, ["--list"]).GetAwaiter().GetResult().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var applet in applets)
        {
            File.CreateSymbolicLink(Path.Combine(directory, applet), Busybox);
        }

        foreach (var tool in new[] { "curl", "openssl" })
        {
            File.Delete(Path.Combine(directory, tool));
            File.CreateSymbolicLink(Path.Combine(directory, tool), "/usr/bin/" + tool);
        }

        return directory;
    }

    /// <summary>A directory for one device: its secret file (the factory secret) and where its TLS files go.</summary>
    public (string SecretFile, string Dir) Prepare(CreatedDevice device)
    {
        var root = Directory.CreateDirectory(Path.Combine(Work, device.DeviceId)).FullName;
        var secretFile = Path.Combine(root, "secret");
        File.WriteAllText(secretFile, device.Secret + "\n");
        return (secretFile, Path.Combine(root, "tls"));
    }

    public async Task<AgentRun> RunAsync(string server, CreatedDevice device, string secretFile, string dir, string[] arguments, string? path = null)
    {
        var (code, output, error) = await ProcessRunner.RunAsync(Busybox, Arguments(server, device, secretFile, dir, arguments), Work, Environment(path), timeout: TimeSpan.FromSeconds(90));
        return new AgentRun(code, output, output + error);
    }

    /// <summary>Starts the agent in its loop (no <c>--once</c>); the caller kills it.</summary>
    public Process Start(string server, CreatedDevice device, string secretFile, string dir, string[] arguments, string? path = null)
    {
        var start = new ProcessStartInfo(Busybox) { WorkingDirectory = Work, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in Arguments(server, device, secretFile, dir, arguments))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in Environment(path))
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static string[] Arguments(string server, CreatedDevice device, string secretFile, string dir, string[] arguments)
        => ["sh", Script, "--server", server, "--id", device.DeviceId, "--secret-file", secretFile, "--dir", dir, .. arguments];

    private Dictionary<string, string?> Environment(string? path) => new() { ["PATH"] = path ?? Bin, ["HOME"] = Work };
}

internal sealed record AgentRun(int ExitCode, string StandardOutput, string Output);
