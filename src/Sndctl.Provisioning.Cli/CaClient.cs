using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Sndctl.Provisioning.Internal;

namespace Sndctl.Provisioning.Cli;

/// <summary>The CA's CSR API (<c>/api/v1/csr</c>) as the CLI uses it, with the CLI's exit codes.</summary>
internal sealed class CaClient(HttpClient http, TextWriter output, TextWriter error, TimeProvider time)
{
    public const string ServerVariable = "SNDCTL_CA_SERVER";
    public const string DefaultServer = "http://127.0.0.1:5080/";

    public const int Issued = 0;
    public const int BadInput = 1;
    public const int Denied = 2;
    public const int RateLimited = 3;
    public const int TimedOut = 4;
    public const int Unreachable = 5;

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(string? server, Func<CaClient, Task<int>> action)
    {
        var text = server ?? (Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultServer);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var baseUrl) || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
        {
            await Console.Error.WriteLineAsync($"'{text}' is not an http(s) URL: give the CA's address, e.g. --server https://ca.example.com/.").ConfigureAwait(false);
            return BadInput;
        }

        using var http = new HttpClient { BaseAddress = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("sndctl-ca/" + typeof(CaClient).Assembly.GetName().Version?.ToString(3));
        try
        {
            return await action(new CaClient(http, Console.Out, Console.Error, TimeProvider.System)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException { InnerException: TimeoutException })
        {
            await Console.Error.WriteLineAsync($"Cannot reach the CA at {http.BaseAddress}: {ex.Message}. Check --server (or {ServerVariable}) and your network.").ConfigureAwait(false);
            return Unreachable;
        }
    }

    public async Task<int> IssueAsync(string type, string ip, string certificatePath, string keyPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!IPAddress.TryParse(ip, out var address) || address.AddressFamily != AddressFamily.InterNetwork || address.ToString() != ip)
        {
            await error.WriteLineAsync($"'{ip}' is not an IPv4 address. Give the private address of the machine, e.g. 192.168.1.10.").ConfigureAwait(false);
            return BadInput;
        }

        if (!AddressRanges.IsPrivateIPv4(address))
        {
            await error.WriteLineAsync($"{ip} is not a private address: the CA issues only 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16. A public address can get a certificate from a public CA such as Let's Encrypt.").ConfigureAwait(false);
            return BadInput;
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + ip, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(address);
        request.CertificateExtensions.Add(san.Build());
        var csr = request.CreateSigningRequestPem();

        using var response = await http.PostAsJsonAsync("api/v1/csr", new { content = csr, type }, cancellationToken).ConfigureAwait(false);
        if (await FailureAsync(response, cancellationToken).ConfigureAwait(false) is { } failed)
        {
            return failed;
        }

        var answer = await ReadAsync(response, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"Request {answer.RequestId} for {ip} ({type}): {answer.Status}.").ConfigureAwait(false);
        var deadline = time.GetUtcNow() + timeout;
        while (answer.Status == "pending")
        {
            if (time.GetUtcNow() >= deadline)
            {
                // The key is kept: the certificate can still be fetched once an administrator approves.
                WriteSecret(keyPath, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead);
                await error.WriteLineAsync($"Timed out after {timeout.TotalSeconds:0} s waiting for an administrator to approve {answer.RequestId}. The key is in {keyPath}; once approved, save the certificate with: sndctl-ca status {answer.RequestId} --out {certificatePath}").ConfigureAwait(false);
                return TimedOut;
            }

            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
            using var poll = await http.GetAsync($"api/v1/csr/{Uri.EscapeDataString(answer.RequestId)}", cancellationToken).ConfigureAwait(false);
            if (await FailureAsync(poll, cancellationToken).ConfigureAwait(false) is { } pollFailed)
            {
                return pollFailed;
            }

            answer = await ReadAsync(poll, cancellationToken).ConfigureAwait(false);
        }

        if (answer.Status != "approved" || answer.Certificate is null)
        {
            await error.WriteLineAsync($"Denied: {answer.Message}").ConfigureAwait(false);
            return Denied;
        }

        WriteSecret(keyPath, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead);
        WriteSecret(certificatePath, answer.Certificate, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var certificate = X509Certificate2.CreateFromPem(answer.Certificate);
        await output.WriteLineAsync($"Certificate for {ip} written to {certificatePath} (valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}), key to {keyPath}.").ConfigureAwait(false);
        return Issued;
    }

    public async Task<int> StatusAsync(string requestId, string? certificatePath, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"api/v1/csr/{Uri.EscapeDataString(requestId)}", cancellationToken).ConfigureAwait(false);
        if (await FailureAsync(response, cancellationToken).ConfigureAwait(false) is { } failed)
        {
            return failed;
        }

        var answer = await ReadAsync(response, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"{answer.RequestId}: {answer.Status}. {answer.Message}".TrimEnd()).ConfigureAwait(false);
        switch (answer.Status)
        {
            case "approved" when certificatePath is not null && answer.Certificate is not null:
                WriteSecret(certificatePath, answer.Certificate, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                await output.WriteLineAsync($"Certificate written to {certificatePath}.").ConfigureAwait(false);
                return Issued;
            case "approved":
                return Issued;
            case "denied":
                return Denied;
            default:
                return TimedOut;
        }
    }

    public async Task<int> RootAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("api/v1/ca/root.pem", cancellationToken).ConfigureAwait(false);
        if (await FailureAsync(response, cancellationToken).ConfigureAwait(false) is { } failed)
        {
            return failed;
        }

        var pem = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (path == "-")
        {
            await output.WriteAsync(pem).ConfigureAwait(false);
            return Issued;
        }

        await File.WriteAllTextAsync(path, pem, cancellationToken).ConfigureAwait(false);
        using var root = X509Certificate2.CreateFromPem(pem);
        await output.WriteLineAsync($"Root certificate '{root.GetNameInfo(X509NameType.SimpleName, false)}' (SHA-256 {root.GetCertHashString(HashAlgorithmName.SHA256)}) written to {path}.").ConfigureAwait(false);
        return Issued;
    }

    private async Task<int?> FailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return null;
        }

        var detail = await ProblemDetailAsync(response, cancellationToken).ConfigureAwait(false);
        switch (response.StatusCode)
        {
            case HttpStatusCode.TooManyRequests:
                var wait = response.Headers.RetryAfter?.Delta is { } delta ? $" Try again in {delta.TotalSeconds:0} s." : string.Empty;
                await error.WriteLineAsync($"Rate limited: the CA accepts one request per minute from your address.{wait}").ConfigureAwait(false);
                return RateLimited;
            case HttpStatusCode.NotFound:
                await error.WriteLineAsync($"Not found: {detail}").ConfigureAwait(false);
                return BadInput;
            case >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError:
                await error.WriteLineAsync($"The CA refused the request ({(int)response.StatusCode}): {detail}").ConfigureAwait(false);
                return BadInput;
            default:
                await error.WriteLineAsync($"The CA failed ({(int)response.StatusCode}): {detail}").ConfigureAwait(false);
                return Unreachable;
        }
    }

    private static async Task<string> ProblemDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() ?? text : text;
        }
        catch (JsonException)
        {
            return text.Length > 200 ? text[..200] : text;
        }
    }

    private static async Task<Answer> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        var root = document.RootElement;
        return new Answer(
            root.GetProperty("request_id").GetString()!,
            root.GetProperty("status").GetString()!,
            root.TryGetProperty("message", out var message) ? message.GetString() ?? string.Empty : string.Empty,
            root.TryGetProperty("certificate", out var certificate) ? certificate.GetString() : null);
    }

    /// <summary>Writes a file readable by its owner only: made with that mode, so it is never readable by others, even briefly.</summary>
    private static void WriteSecret(string path, string content, UnixFileMode mode)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private sealed record Answer(string RequestId, string Status, string Message, string? Certificate);
}
