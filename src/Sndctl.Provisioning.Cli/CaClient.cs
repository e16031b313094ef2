using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sndctl.Provisioning.Internal;

namespace Sndctl.Provisioning.Cli;

/// <summary>The options every command shares.</summary>
internal sealed record GlobalOptions(string? Server, string? RootFile, string? Fingerprint, bool Json);

/// <summary>The CA's CSR API (<c>/api/v1/csr</c>) as the CLI uses it, with the CLI's exit codes.</summary>
internal sealed class CaClient(HttpClient http, Trust trust, Reporter report, TimeProvider time)
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
    private X509Certificate2? _root;

    public static async Task<int> RunAsync(GlobalOptions options, Func<CaClient, Task<int>> action)
    {
        var report = new Reporter(options.Json);
        var text = options.Server ?? (Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultServer);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var baseUrl) || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
        {
            return report.Fail(BadInput, $"'{text}' is not an http(s) URL: give the CA's address, e.g. --server https://ca.example.com/.");
        }

        if (!Trust.TryCreate(options.RootFile, options.Fingerprint, out var trust, out var problem))
        {
            return report.Fail(BadInput, problem!);
        }

        if (baseUrl.Scheme == Uri.UriSchemeHttp && !baseUrl.IsLoopback && !trust.Pinned)
        {
            return report.Fail(BadInput, $"{baseUrl} is plain HTTP to another machine: anyone on the way could hand you another CA. Use https, or pin the CA with --fingerprint SHA256 (or --root FILE) so what comes back is checked.");
        }

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) => trust.ValidateServer(certificate, chain, errors) };
        using var http = new HttpClient(handler) { BaseAddress = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("sndctl-ca/" + typeof(CaClient).Assembly.GetName().Version?.ToString(3));
        try
        {
            return await action(new CaClient(http, trust, report, TimeProvider.System)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException { InnerException: TimeoutException })
        {
            return report.Fail(Unreachable, $"Cannot reach the CA at {http.BaseAddress}: {ex.GetBaseException().Message}. Check --server (or {ServerVariable}), your network, and for HTTPS the server's certificate (--root FILE trusts a private root).");
        }
        catch (RootMismatchException ex)
        {
            return report.Fail(Unreachable, ex.Message);
        }
    }

    public async Task<int> IssueAsync(string type, string ip, string certificatePath, string keyPath, TimeSpan timeout, bool force, CancellationToken cancellationToken)
    {
        if (!IPAddress.TryParse(ip, out var address) || address.AddressFamily != AddressFamily.InterNetwork || address.ToString() != ip)
        {
            return report.Fail(BadInput, $"'{ip}' is not an IPv4 address. Give the private address of the machine, e.g. 192.168.1.10.");
        }

        if (!AddressRanges.IsPrivateIPv4(address))
        {
            return report.Fail(BadInput, $"{ip} is not a private address: the CA issues only 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16. A public address can get a certificate from a public CA such as Let's Encrypt.");
        }

        if (!force && ExistingFile(certificatePath, keyPath) is { } existing)
        {
            return report.Fail(BadInput, $"{existing} exists; nothing was changed. Add --force to replace it, or use 'sndctl-ca renew' for a certificate that is due.");
        }

        await RootCertificateAsync(cancellationToken).ConfigureAwait(false); // the CA is the one meant before anything is asked or written
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (code, answer) = await SubmitAsync(type, address, key, timeout, keyPath, certificatePath, keepKey: true, cancellationToken).ConfigureAwait(false);
        if (code != Issued)
        {
            return code;
        }

        var leaf = await VerifyAsync(answer!.Certificate!, key, address).ConfigureAwait(false);
        if (leaf is null)
        {
            TryDelete(keyPath);
            return Unreachable;
        }

        Files.WriteSecret(certificatePath, answer.Certificate!, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        report.Say($"Certificate for {ip} written to {certificatePath} (valid until {leaf.NotAfter.ToUniversalTime():yyyy-MM-dd}), key to {keyPath}.");
        report.Result(Issued, Outcome("issued", answer.RequestId, ip, certificatePath, keyPath, leaf));
        return Issued;
    }

    /// <summary>
    /// <c>renew</c>: when the certificate at <paramref name="certificatePath"/> ends within <paramref name="before"/>, a new
    /// key and certificate for the same address and kind, both replaced at once (each written aside, then renamed
    /// over), then <paramref name="exec"/> (a shell command: reload the server). Otherwise nothing happens (exit 0).
    /// </summary>
    public async Task<int> RenewAsync(string certificatePath, string keyPath, TimeSpan before, string? exec, TimeSpan timeout, CancellationToken cancellationToken)
    {
        X509Certificate2 current;
        try
        {
            current = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            return report.Fail(BadInput, $"{certificatePath} and {keyPath} are not a certificate and its key ({ex.Message}).");
        }

        using (current)
        {
            var address = current.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(s => s.EnumerateIPAddresses()).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
            if (address is null)
            {
                return report.Fail(BadInput, $"{certificatePath} names no IPv4 address: it is not a certificate of this CA's CSR service.");
            }

            var due = new DateTimeOffset(current.NotAfter.ToUniversalTime(), TimeSpan.Zero) - before;
            if (time.GetUtcNow() < due)
            {
                report.Say($"{certificatePath} for {address} is valid until {current.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; renewal is due from {due:yyyy-MM-dd HH:mm} UTC (--before {before.TotalDays:0.#}d). Nothing done.");
                report.Result(Issued, new JsonObject { ["status"] = "not_due", ["ip"] = address.ToString(), ["notAfter"] = current.NotAfter.ToUniversalTime().ToString("O"), ["dueAt"] = due.ToString("O") });
                return Issued;
            }

            await RootCertificateAsync(cancellationToken).ConfigureAwait(false);
            var type = current.Issuer.Contains("Webhook", StringComparison.OrdinalIgnoreCase) ? "webhook" : "private_server";
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var nextKey = keyPath + ".next";
            var (code, answer) = await SubmitAsync(type, address, key, timeout, nextKey, certificatePath + ".next", keepKey: true, cancellationToken).ConfigureAwait(false);
            if (code != Issued)
            {
                return code;
            }

            var leaf = await VerifyAsync(answer!.Certificate!, key, address).ConfigureAwait(false);
            if (leaf is null)
            {
                TryDelete(nextKey);
                return Unreachable;
            }

            // Aside first, then renamed over the old pair: a reader sees the old pair or the new one, never a half.
            var nextCertificate = certificatePath + ".next";
            Files.WriteSecret(nextCertificate, answer.Certificate!, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(nextKey, keyPath, overwrite: true);
            File.Move(nextCertificate, certificatePath, overwrite: true);
            report.Say($"Renewed the certificate for {address}: {certificatePath} valid until {leaf.NotAfter.ToUniversalTime():yyyy-MM-dd}, new key in {keyPath}.");
            var result = Outcome("renewed", answer.RequestId, address.ToString(), certificatePath, keyPath, leaf);
            if (exec is not null)
            {
                var exitCode = await RunExecAsync(exec, certificatePath, keyPath, cancellationToken).ConfigureAwait(false);
                result["exec"] = new JsonObject { ["command"] = exec, ["exitCode"] = exitCode };
                if (exitCode != 0)
                {
                    report.Result(BadInput, result);
                    return report.Fail(BadInput, $"The certificate was renewed, but --exec '{exec}' exited {exitCode}.");
                }
            }

            report.Result(Issued, result);
            return Issued;
        }
    }

    public async Task<int> StatusAsync(string requestId, string? certificatePath, bool force, CancellationToken cancellationToken)
    {
        if (certificatePath is not null && !force && File.Exists(certificatePath))
        {
            return report.Fail(BadInput, $"{certificatePath} exists; nothing was changed. Add --force to replace it.");
        }

        using var response = await http.GetAsync($"api/v1/csr/{Uri.EscapeDataString(requestId)}", cancellationToken).ConfigureAwait(false);
        if (await FailureAsync(response, cancellationToken).ConfigureAwait(false) is { } failed)
        {
            return failed;
        }

        var answer = await ReadAsync(response, cancellationToken).ConfigureAwait(false);
        report.Say($"{answer.RequestId}: {answer.Status}. {answer.Message}".TrimEnd());
        var result = new JsonObject { ["status"] = answer.Status, ["requestId"] = answer.RequestId, ["message"] = answer.Message };
        switch (answer.Status)
        {
            case "approved" when certificatePath is not null && answer.Certificate is not null:
                var root = await RootCertificateAsync(cancellationToken).ConfigureAwait(false);
                if (!Trust.Chains(answer.Certificate, root, out _))
                {
                    return report.Fail(Unreachable, $"The certificate of {answer.RequestId} does not chain to the CA's root ({Trust.Display(Trust.Of(root))}); not written.");
                }

                Files.WriteSecret(certificatePath, answer.Certificate, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                report.Say($"Certificate written to {certificatePath}.");
                result["certificate"] = certificatePath;
                report.Result(Issued, result);
                return Issued;
            case "approved":
                report.Result(Issued, result);
                return Issued;
            case "denied":
                report.Result(Denied, result);
                return Denied;
            default:
                report.Result(TimedOut, result);
                return TimedOut;
        }
    }

    public async Task<int> RootAsync(string path, bool force, CancellationToken cancellationToken)
    {
        if (path != "-" && !force && File.Exists(path))
        {
            return report.Fail(BadInput, $"{path} exists; nothing was changed. Add --force to replace it.");
        }

        var root = await RootCertificateAsync(cancellationToken, announce: false).ConfigureAwait(false);
        var pem = root.ExportCertificatePem() + "\n";
        var fingerprint = Trust.Of(root);
        if (path == "-")
        {
            Reporter.Raw(pem);
            return Issued;
        }

        await File.WriteAllTextAsync(path, pem, cancellationToken).ConfigureAwait(false);
        report.Say($"Root certificate '{root.GetNameInfo(X509NameType.SimpleName, false)}' written to {path}.");
        report.Say(trust.Pinned
            ? $"SHA-256 {Trust.Display(fingerprint)}: matches the pinned fingerprint."
            : $"SHA-256 {Trust.Display(fingerprint)}: compare it with the one your CA's operator publishes, then pin it with --fingerprint.");
        report.Result(Issued, new JsonObject { ["status"] = "written", ["path"] = path, ["subject"] = root.Subject, ["fingerprint"] = fingerprint, ["pinned"] = trust.Pinned });
        return Issued;
    }

    /// <summary>
    /// Sends the CSR and waits for the answer. The key is written (0400) as soon as the CA has the request, before any
    /// waiting, so an interrupted wait loses nothing: <c>status</c> fetches the certificate later. A denial removes it.
    /// </summary>
    private async Task<(int Code, Answer? Answer)> SubmitAsync(string type, IPAddress address, ECDsa key, TimeSpan timeout, string keyPath, string certificatePath, bool keepKey, CancellationToken cancellationToken)
    {
        var ip = address.ToString();
        var request = new CertificateRequest("CN=" + ip, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(address);
        request.CertificateExtensions.Add(san.Build());
        var csr = request.CreateSigningRequestPem();

        using var response = await http.PostAsJsonAsync("api/v1/csr", new { content = csr, type }, cancellationToken).ConfigureAwait(false);
        if (await FailureAsync(response, cancellationToken).ConfigureAwait(false) is { } failed)
        {
            return (failed, null);
        }

        var answer = await ReadAsync(response, cancellationToken).ConfigureAwait(false);
        if (keepKey)
        {
            Files.WriteSecret(keyPath, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead);
        }

        report.Say($"Request {answer.RequestId} for {ip} ({type}): {answer.Status}.");
        var deadline = time.GetUtcNow() + timeout;
        while (answer.Status == "pending")
        {
            if (time.GetUtcNow() >= deadline)
            {
                report.Result(TimedOut, new JsonObject { ["status"] = "pending", ["requestId"] = answer.RequestId, ["ip"] = ip, ["key"] = keyPath });
                return (report.Fail(TimedOut, $"Timed out after {timeout.TotalSeconds:0} s waiting for an administrator to approve {answer.RequestId}. The key is in {keyPath}; once approved, save the certificate with: sndctl-ca status {answer.RequestId} --out {certificatePath}"), null);
            }

            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
            using var poll = await http.GetAsync($"api/v1/csr/{Uri.EscapeDataString(answer.RequestId)}", cancellationToken).ConfigureAwait(false);
            if (await FailureAsync(poll, cancellationToken).ConfigureAwait(false) is { } pollFailed)
            {
                return (pollFailed, null);
            }

            answer = await ReadAsync(poll, cancellationToken).ConfigureAwait(false);
        }

        if (answer.Status != "approved" || answer.Certificate is null)
        {
            TryDelete(keyPath);
            report.Result(Denied, new JsonObject { ["status"] = answer.Status, ["requestId"] = answer.RequestId, ["ip"] = ip, ["message"] = answer.Message });
            return (report.Fail(Denied, $"Denied: {answer.Message}"), null);
        }

        return (Issued, answer);
    }

    /// <summary>The leaf when the chain is for this key and address and chains to the trusted root; null (said why) otherwise.</summary>
    private async Task<X509Certificate2?> VerifyAsync(string chainPem, ECDsa key, IPAddress address)
    {
        var root = await RootCertificateAsync(CancellationToken.None).ConfigureAwait(false);
        if (!Trust.Chains(chainPem, root, out var leaf))
        {
            report.Fail(Unreachable, $"The certificate the server returned does not chain to the CA's root ({Trust.Display(Trust.Of(root))}); nothing was written.");
            return null;
        }

        if (!leaf.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            report.Fail(Unreachable, "The certificate the server returned is not for the key made here; nothing was written.");
            return null;
        }

        if (!leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(s => s.EnumerateIPAddresses()).Contains(address))
        {
            report.Fail(Unreachable, $"The certificate the server returned is not for {address}; nothing was written.");
            return null;
        }

        return leaf;
    }

    /// <summary>The trusted root: the pinned file, or the server's, checked against the pinned fingerprint (or printed when none is pinned).</summary>
    private async Task<X509Certificate2> RootCertificateAsync(CancellationToken cancellationToken, bool announce = true)
    {
        if (trust.Root is not null)
        {
            return trust.Root;
        }

        if (_root is not null)
        {
            return _root;
        }

        using var response = await http.GetAsync("api/v1/ca/root.pem", cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var root = X509Certificate2.CreateFromPem(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        var fingerprint = Trust.Of(root);
        if (trust.Fingerprint is { } pinned && !string.Equals(pinned, fingerprint, StringComparison.Ordinal))
        {
            throw new RootMismatchException($"The CA's root has the SHA-256 fingerprint {Trust.Display(fingerprint)}, not the {Trust.Display(pinned)} given with --fingerprint: this is not the CA you meant (or it changed its root). Nothing was written.");
        }

        if (announce && trust.Fingerprint is null)
        {
            report.Say($"The CA's root: {root.GetNameInfo(X509NameType.SimpleName, false)}, SHA-256 {Trust.Display(fingerprint)} (pin it with --fingerprint).");
        }

        return _root = root;
    }

    private static async Task<int> RunExecAsync(string command, string certificatePath, string keyPath, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(OperatingSystem.IsWindows() ? "cmd.exe" : "/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add(OperatingSystem.IsWindows() ? "/c" : "-c");
        start.ArgumentList.Add(command);
        start.Environment["SNDCTL_CA_CERT"] = Path.GetFullPath(certificatePath);
        start.Environment["SNDCTL_CA_KEY"] = Path.GetFullPath(keyPath);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start '{command}'.");
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return process.ExitCode;
    }

    private static JsonObject Outcome(string status, string requestId, string ip, string certificatePath, string keyPath, X509Certificate2 leaf) => new()
    {
        ["status"] = status,
        ["requestId"] = requestId,
        ["ip"] = ip,
        ["certificate"] = certificatePath,
        ["key"] = keyPath,
        ["notAfter"] = leaf.NotAfter.ToUniversalTime().ToString("O"),
        ["serialNumber"] = leaf.SerialNumber,
        ["issuer"] = leaf.Issuer,
    };

    private static string? ExistingFile(params string[] paths) => paths.FirstOrDefault(File.Exists);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a key for a request that will never be approved.
        }
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
                return report.Fail(RateLimited, $"Rate limited: the CA accepts one request per minute from your address.{wait}");
            case HttpStatusCode.NotFound:
                return report.Fail(BadInput, $"Not found: {detail}");
            case >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError:
                return report.Fail(BadInput, $"The CA refused the request ({(int)response.StatusCode}): {detail}");
            default:
                return report.Fail(Unreachable, $"The CA failed ({(int)response.StatusCode}): {detail}");
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

    private sealed record Answer(string RequestId, string Status, string Message, string? Certificate);

    private sealed class RootMismatchException(string message) : Exception(message);
}

/// <summary>What the CLI says: lines for people (on standard error with <c>--json</c>), and one JSON object on standard output with <c>--json</c>.</summary>
internal sealed class Reporter(bool json)
{
    private bool _resulted;

    public void Say(string line) => (json ? Console.Error : Console.Out).WriteLine(line);

    public static void Raw(string text) => Console.Out.Write(text);

    /// <summary>Says <paramref name="message"/> on standard error (and as the JSON result when none was given); returns <paramref name="exitCode"/>.</summary>
    public int Fail(int exitCode, string message)
    {
        Console.Error.WriteLine(message);
        Result(exitCode, new JsonObject { ["status"] = "error", ["message"] = message });
        return exitCode;
    }

    /// <summary>With <c>--json</c>, the command's one result object (the first one given), with its exit code.</summary>
    public void Result(int exitCode, JsonObject result)
    {
        if (!json || _resulted)
        {
            return;
        }

        _resulted = true;
        result["exitCode"] = exitCode;
        Console.Out.WriteLine(result.ToJsonString());
    }
}

/// <summary>Files only their owner reads.</summary>
internal static class Files
{
    /// <summary>Writes a file readable by its owner only: made with that mode, so it is never readable by others, even briefly.</summary>
    public static void WriteSecret(string path, string content, UnixFileMode mode)
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
}
