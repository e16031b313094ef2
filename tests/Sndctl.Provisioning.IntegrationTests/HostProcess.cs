using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The reference host as its own process, started as an operator starts it (<c>dotnet Sndctl.Provisioning.Host.dll
/// --urls …</c>, configured through the environment): for what needs a real process (a SIGKILL, several instances,
/// the process's own files and exit code). Its output is kept for failure messages; disposing kills it.
/// </summary>
internal sealed class HostProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();

    private HostProcess(Process process, string url)
    {
        Process = process;
        Url = url;
    }

    public static string HostDll => Path.Combine(AppContext.BaseDirectory, "Sndctl.Provisioning.Host.dll");

    public Process Process { get; }

    /// <summary>The base URL it listens on (<c>http://127.0.0.1:port</c>).</summary>
    public string Url { get; }

    public bool HasExited => Process.HasExited;

    /// <summary>Everything it printed so far, stdout and stderr interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts the host with <paramref name="environment"/> added to this process's environment (a null value
    /// removes a variable), listening on <paramref name="url"/> (a free loopback port by default).
    /// </summary>
    public static HostProcess Start(IReadOnlyDictionary<string, string?> environment, string? url = null, string? workingDirectory = null)
    {
        url ??= $"http://127.0.0.1:{Ports.Free()}";
        var start = new ProcessStartInfo("dotnet", [HostDll, "--urls", url])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        var host = new HostProcess(Process.Start(start)!, url);
        host.Process.OutputDataReceived += (_, e) => host.Append(e.Data);
        host.Process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        host.Process.BeginOutputReadLine();
        host.Process.BeginErrorReadLine();
        return host;
    }

    /// <summary>A client for its URL, with the admin key as bearer token when given.</summary>
    public HttpClient CreateClient(string? adminKey = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(30) };
        if (adminKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        }

        return client;
    }

    /// <summary>Waits until <paramref name="path"/> answers 200; fails with the host's output if it exits or takes longer than <paramref name="timeout"/> (90 s).</summary>
    public async Task WaitReadyAsync(string path = "/api/health/ready", TimeSpan? timeout = null)
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            Assert.False(HasExited, $"the host at {Url} exited (code {(HasExited ? Process.ExitCode : 0)}): {Output}");
            try
            {
                if ((await http.GetAsync(path)).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"the host at {Url} did not become ready: {Output}");
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: the process dies at whatever instruction it was on.</summary>
    public void Kill()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Process.WaitForExitAsync();
        Process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
