using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// The ACME transport (RFC 8555 §6): signed POSTs with a nonce pool that every answer refills,
/// <c>badNonce</c> retried with the nonce the rejection carried, each exchange bounded by the request
/// timeout, problem documents turned into exceptions, and Retry-After read in both its forms. The
/// resource calls of <see cref="AcmeClient"/> sit on top of it; it knows no resource.
/// </summary>
internal sealed partial class AcmeTransport(
    HttpClient http,
    AcmeClientOptions options,
    ILogger logger,
    TimeProvider time,
    AcmeMetrics metrics,
    Func<CancellationToken, Task<Uri>> newNonceUrl)
{
    private const string JoseJson = "application/jose+json";
    private readonly ConcurrentQueue<string> _nonces = new();

    /// <summary>
    /// Signs and sends one request; a <c>badNonce</c> answer is retried with the nonce it carried.
    /// Throws the problem as an exception on any non-success status.
    /// </summary>
    public async Task<HttpResponseMessage> PostAsync(Uri url, byte[]? payload, AcmeAccountKey key, Uri? kid, CancellationToken cancellationToken, string accept = "application/json")
    {
        string? nonce = null;
        for (var attempt = 0; ; attempt++)
        {
            nonce ??= await TakeNonceAsync(cancellationToken).ConfigureAwait(false);
            var body = Jws.Sign(key, url, nonce, kid, payload);
            var response = await SendAsync(
                () =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue(JoseJson);
                    request.Headers.Accept.ParseAdd(accept);
                    return request;
                },
                url,
                cancellationToken,
                keepNonce: false).ConfigureAwait(false);

            nonce = NonceOf(response);
            if (response.IsSuccessStatusCode)
            {
                KeepNonce(nonce);
                return response;
            }

            using (response)
            {
                var problem = await ReadProblemAsync(response, cancellationToken).ConfigureAwait(false);
                metrics.Problem(problem.Type);
                var exception = AcmeProblemException.Create(problem, response.StatusCode, url, RetryAfterOf(response));
                if (exception is AcmeBadNonceException && attempt < options.BadNonceRetries)
                {
                    // Retry with the fresh nonce the rejection carried (RFC 8555 §6.5), not one from the pool.
                    Log.BadNonceRetry(logger, url.AbsolutePath);
                    continue;
                }

                KeepNonce(nonce);
                throw exception;
            }
        }
    }

    private void KeepNonce(string? nonce)
    {
        if (nonce is not null && _nonces.Count < options.NoncePoolSize)
        {
            _nonces.Enqueue(nonce);
        }
    }

    private async Task<string> TakeNonceAsync(CancellationToken cancellationToken)
    {
        if (_nonces.TryDequeue(out var nonce))
        {
            return nonce;
        }

        var newNonce = await newNonceUrl(cancellationToken).ConfigureAwait(false);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, newNonce), newNonce, cancellationToken, keepNonce: false).ConfigureAwait(false);
        await EnsureSuccessAsync(response, newNonce, cancellationToken).ConfigureAwait(false);
        return NonceOf(response) ?? throw new AcmeProtocolException("The CA's newNonce answer carried no Replay-Nonce header.");
    }

    /// <summary>One HTTP exchange, bounded by the request timeout; keeps the answer's nonce for later.</summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> createRequest, Uri url, CancellationToken cancellationToken, bool keepNonce = true)
    {
        using var request = createRequest();
        request.Headers.UserAgent.ParseAdd(options.UserAgent);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RequestTimeout);
        var started = time.GetTimestamp();
        HttpResponseMessage? response = null;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The ACME server did not answer {request.Method} {url} within {options.RequestTimeout.TotalSeconds:0.#} s.", ex);
        }
        finally
        {
            metrics.Request(request.Method.Method, response is null ? 0 : (int)response.StatusCode, time.GetElapsedTime(started).TotalSeconds);
        }

        Log.Exchange(logger, request.Method.Method, url.AbsolutePath, (int)response.StatusCode, time.GetElapsedTime(started).TotalMilliseconds);
        if (keepNonce)
        {
            KeepNonce(NonceOf(response));
        }

        return response;
    }

    public static HttpRequestMessage Get(Uri url, string accept)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd(accept);
        return request;
    }

    private static string? NonceOf(HttpResponseMessage response)
        => response.Headers.TryGetValues("Replay-Nonce", out var values) ? values.FirstOrDefault() : null;

    public TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    public async Task EnsureSuccessAsync(HttpResponseMessage response, Uri url, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var problem = await ReadProblemAsync(response, cancellationToken).ConfigureAwait(false);
            metrics.Problem(problem.Type);
            throw AcmeProblemException.Create(problem, response.StatusCode, url, RetryAfterOf(response));
        }
    }

    public static async Task<AcmeProblem> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return AcmeProblemParser.Parse(bytes, response.Content.Headers.ContentType?.MediaType, response.StatusCode);
    }

    public static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> typeInfo, Uri url, CancellationToken cancellationToken)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(bytes, typeInfo) ?? throw new AcmeProtocolException($"The CA's answer at {url.AbsolutePath} was JSON null.");
        }
        catch (JsonException ex)
        {
            throw new AcmeProtocolException($"The CA's answer at {url.AbsolutePath} is not the JSON RFC 8555 describes: {ex.Message}", ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "ACME {Method} {Path} -> {StatusCode} in {ElapsedMs:0.0} ms")]
        public static partial void Exchange(ILogger logger, string method, string path, int statusCode, double elapsedMs);

        [LoggerMessage(2, LogLevel.Debug, "ACME server rejected the nonce at {Path}; retrying with the fresh one.")]
        public static partial void BadNonceRetry(ILogger logger, string path);
    }
}
