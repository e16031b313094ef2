using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// A small HTTPS stub in front of Pebble for what Pebble 2.4 lacks: it forwards every request (Host
/// header kept, so Pebble's URLs and JWS url checks point at the stub), adds RFC 9773
/// <c>renewalInfo</c> to the directory and serves a configured window, records new-order payloads
/// (to see <c>replaces</c>), answers <c>rateLimited</c> with Retry-After on demand, can slow new
/// orders down, can drop every connection as an unreachable CA would, counts the certificates the CA
/// issued (accepted finalize requests) per name, and can hold certificate downloads back.
/// </summary>
public sealed class AcmeProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _pebble;
    private readonly Uri _upstream;
    private string? _newOrderPath;
    private string? _noncePath;

    private AcmeProxy(WebApplication app, HttpClient pebble, Uri upstream)
    {
        _app = app;
        _pebble = pebble;
        _upstream = upstream;
    }

    public Uri Directory { get; private set; } = null!;

    /// <summary>The window served at renewalInfo; <see langword="null"/> answers 404.</summary>
    public (DateTimeOffset Start, DateTimeOffset End)? RenewalWindow { get; set; }

    /// <summary>How many coming new-order requests get a 429 rateLimited.</summary>
    public int RateLimitNextOrders { get; set; }

    public TimeSpan RateLimitRetryAfter { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>The <c>detail</c> of the stub's rateLimited answers (Let's Encrypt links the documented limit in it).</summary>
    public string RateLimitDetail { get; set; } = "too many new orders recently (stub)";

    /// <summary>Every new-account request that reached the proxy.</summary>
    public int NewAccountRequests => _newAccountRequests;

    private int _newAccountRequests;
    private string? _newAccountPath;

    public TimeSpan NewOrderDelay { get; set; }

    /// <summary>Certificate profiles to list in the directory's meta (draft-aaron-acme-profiles).</summary>
    public Dictionary<string, string>? Profiles { get; set; }

    /// <summary>How many coming finalize requests get a 400 badCSR (the CA refusing the device's CSR; it counted the order).</summary>
    public int RefuseNextFinalizes { get; set; }

    /// <summary>Abort every connection, as a CA that cannot be reached.</summary>
    public bool Down { get; set; }

    /// <summary>Decoded JSON payloads of the orders created (or rate-limited by the stub).</summary>
    public ConcurrentQueue<JsonNode> NewOrders { get; } = new();

    public ConcurrentQueue<string> RenewalInfoRequests { get; } = new();

    /// <summary>While set, certificate downloads wait (the CA has issued; the client does not have it yet) until it completes.</summary>
    public TaskCompletionSource? HoldDownloads { get; set; }

    /// <summary>Per identifier, how many finalize requests the CA accepted: the certificates it issued.</summary>
    public ConcurrentDictionary<string, int> Finalized { get; } = new(StringComparer.OrdinalIgnoreCase);

    private readonly ConcurrentDictionary<string, string> _finalizePaths = new(StringComparer.Ordinal);

    /// <param name="lab">The lab whose TLS certificate the proxy serves.</param>
    /// <param name="upstreamDirectory">The Pebble to front; the lab's by default.</param>
    public static async Task<AcmeProxy> StartAsync(AcmeLab lab, Uri? upstreamDirectory = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var certificate = X509Certificate2.CreateFromPemFile(lab.TlsCertificateFile, lab.TlsKeyFile);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null))));
        var app = builder.Build();
        var pebble = lab.CreateHttpClient();
        var upstreamDirectoryUrl = upstreamDirectory ?? lab.Directory;
        var upstream = new Uri(upstreamDirectoryUrl.GetLeftPart(UriPartial.Authority));
        var proxy = new AcmeProxy(app, pebble, upstream);
        app.Run(proxy.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        proxy.Directory = new Uri(new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)), upstreamDirectoryUrl.AbsolutePath);
        return proxy;
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (Down)
        {
            context.Abort();
            return;
        }

        var request = context.Request;
        var path = request.Path.Value ?? "/";
        if (path.StartsWith("/renewal-info/", StringComparison.Ordinal))
        {
            RenewalInfoRequests.Enqueue(path["/renewal-info/".Length..]);
            if (RenewalWindow is not { } window)
            {
                context.Response.StatusCode = 404;
                return;
            }

            context.Response.Headers.RetryAfter = "21600";
            await context.Response.WriteAsJsonAsync(new { suggestedWindow = new { start = window.Start.UtcDateTime.ToString("O"), end = window.End.UtcDateTime.ToString("O") } });
            return;
        }

        if (path == _newAccountPath)
        {
            Interlocked.Increment(ref _newAccountRequests);
        }

        var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        JsonNode? newOrder = null;
        if (path == _newOrderPath)
        {
            using var jws = JsonDocument.Parse(body.ToArray());
            newOrder = JsonNode.Parse(Base64Url.DecodeFromChars(jws.RootElement.GetProperty("payload").GetString()!))!;
            if (NewOrderDelay > TimeSpan.Zero)
            {
                await Task.Delay(NewOrderDelay);
            }

            if (RateLimitNextOrders > 0)
            {
                RateLimitNextOrders--;
                NewOrders.Enqueue(newOrder);
                using var nonce = await ForwardAsync(context, HttpMethod.Head, _noncePath!, null);
                context.Response.StatusCode = 429;
                context.Response.ContentType = "application/problem+json";
                context.Response.Headers.RetryAfter = ((int)RateLimitRetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                context.Response.Headers["Replay-Nonce"] = nonce.Headers.GetValues("Replay-Nonce").First();
                await context.Response.WriteAsync(JsonSerializer.Serialize(new { type = "urn:ietf:params:acme:error:rateLimited", detail = RateLimitDetail, status = 429 }));
                return;
            }
        }

        if (RefuseNextFinalizes > 0 && _finalizePaths.ContainsKey(path))
        {
            RefuseNextFinalizes--;
            using var nonce = await ForwardAsync(context, HttpMethod.Head, _noncePath!, null);
            context.Response.StatusCode = 400;
            context.Response.ContentType = "application/problem+json";
            context.Response.Headers["Replay-Nonce"] = nonce.Headers.GetValues("Replay-Nonce").First();
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { type = "urn:ietf:params:acme:error:badCSR", detail = "key is on a blocklist (stub)", status = 400 }));
            return;
        }

        using var response = await ForwardAsync(context, new HttpMethod(request.Method), path + request.QueryString, body.ToArray());
        if (newOrder is not null && response.StatusCode == HttpStatusCode.Created)
        {
            NewOrders.Enqueue(newOrder); // Orders Pebble rejected (its random badNonce) are retried, not counted.
        }
        var content = await response.Content.ReadAsByteArrayAsync();
        if (newOrder is not null && response.StatusCode == HttpStatusCode.Created)
        {
            var order = JsonNode.Parse(content)!;
            _finalizePaths[new Uri(order["finalize"]!.GetValue<string>()).AbsolutePath] = order["identifiers"]![0]!["value"]!.GetValue<string>();
        }
        else if (response.IsSuccessStatusCode && _finalizePaths.TryGetValue(path, out var finalized))
        {
            Finalized.AddOrUpdate(finalized, 1, (_, count) => count + 1);
        }
        else if (response.Content.Headers.ContentType?.MediaType == "application/pem-certificate-chain" && HoldDownloads is { } hold)
        {
            await hold.Task;
        }

        if (path == Directory.AbsolutePath)
        {
            var directory = JsonNode.Parse(content)!.AsObject();
            _newOrderPath = new Uri(directory["newOrder"]!.GetValue<string>()).AbsolutePath;
            _noncePath = new Uri(directory["newNonce"]!.GetValue<string>()).AbsolutePath;
            _newAccountPath = new Uri(directory["newAccount"]!.GetValue<string>()).AbsolutePath;
            directory["renewalInfo"] = $"https://{request.Host}/renewal-info/";
            if (Profiles is not null)
            {
                directory["meta"]!["profiles"] = JsonSerializer.SerializeToNode(Profiles);
            }
            content = Encoding.UTF8.GetBytes(directory.ToJsonString());
        }

        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (header.Key is not ("Transfer-Encoding" or "Content-Length"))
            {
                context.Response.Headers[header.Key] = header.Value.ToArray();
            }
        }

        await context.Response.Body.WriteAsync(content);
    }

    private Task<HttpResponseMessage> ForwardAsync(HttpContext context, HttpMethod method, string pathAndQuery, byte[]? body)
    {
        var forward = new HttpRequestMessage(method, new Uri(_upstream, pathAndQuery));
        forward.Headers.Host = context.Request.Host.Value;
        if (body is { Length: > 0 })
        {
            forward.Content = new ByteArrayContent(body);
            forward.Content.Headers.TryAddWithoutValidation("Content-Type", context.Request.ContentType);
        }

        if (context.Request.Headers.Accept.Count > 0)
        {
            forward.Headers.TryAddWithoutValidation("Accept", context.Request.Headers.Accept.ToArray());
        }

        return _pebble.SendAsync(forward);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _pebble.Dispose();
    }
}
