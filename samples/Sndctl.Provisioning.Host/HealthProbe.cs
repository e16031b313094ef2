namespace Sndctl.Provisioning.Host;

/// <summary>
/// <c>Sndctl.Provisioning.Host health [--url URL]</c>: asks a running host's liveness endpoint and
/// exits 0 when it answers 200, 1 otherwise. For container health checks in images without curl; it
/// reads no configuration and touches no database. Default URL: <c>http://127.0.0.1:8080/api/health/live</c>.
/// </summary>
internal static class HealthProbe
{
    public const string DefaultUrl = "http://127.0.0.1:8080/api/health/live";

    public static async Task<int> RunAsync(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            await Console.Error.WriteLineAsync($"--url '{url}' is not an http(s) URL, e.g. {DefaultUrl}.");
            return 2;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync(uri);
            Console.WriteLine($"{(int)response.StatusCode} {uri}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"{uri}: {ex.Message}");
            return 1;
        }
    }
}
