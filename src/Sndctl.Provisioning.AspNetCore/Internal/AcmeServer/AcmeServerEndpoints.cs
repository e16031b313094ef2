using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AspNetCore.Internal.AcmeServer;

/// <summary>
/// The HTTP side of the ACME front door, and nothing more: the request's URL, body (bounded) and client network go
/// to <see cref="IAcmeServer"/>, its answer comes back with Replay-Nonce, Location, Link and Retry-After. A failed
/// External Account Binding counts in the device API's failed-authentication throttle (per device, per network):
/// past its limit the answer is <c>rateLimited</c> with Retry-After.
/// </summary>
internal sealed class AcmeServerEndpoints(string prefix)
{
    private const int MaxBody = 64 * 1024;

    public async Task HandleAsync(HttpContext context, AcmeServerResource resource, string? id)
    {
        var request = context.Request;
        var body = ReadOnlyMemory<byte>.Empty;
        if (HttpMethods.IsPost(request.Method))
        {
            if (await ReadBodyAsync(context).ConfigureAwait(false) is not { } read)
            {
                await WriteAsync(context, new AcmeServerResponse(413, Problem("malformed", 413, $"The body is longer than {MaxBody} bytes."), "application/problem+json")).ConfigureAwait(false);
                return;
            }

            body = read;
        }

        var baseUrl = new Uri(UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, prefix));
        var url = new Uri(UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, request.Path));
        var client = context.Connection.RemoteIpAddress;
        var acme = context.RequestServices.GetRequiredService<IAcmeServer>();
        var response = await acme.HandleAsync(
            new AcmeServerRequest(resource, id, request.Method, url, baseUrl, request.ContentType, body, client is null ? "unknown" : ClientNetwork.KeyOf(client)),
            context.RequestAborted).ConfigureAwait(false);

        if (response.FailedDeviceId is { } deviceId
            && context.RequestServices.GetRequiredService<FailedAuthenticationThrottle>().DeviceFailed(deviceId, client) is { } wait)
        {
            response = new AcmeServerResponse(429, Problem("rateLimited", 429, "Too many failed bindings for this device or from this network; try again after Retry-After."), "application/problem+json")
            {
                Nonce = response.Nonce,
                Links = response.Links,
                RetryAfter = wait,
            };
        }

        await WriteAsync(context, response).ConfigureAwait(false);
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBody)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBody)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static async Task WriteAsync(HttpContext context, AcmeServerResponse answer)
    {
        var response = context.Response;
        response.StatusCode = answer.StatusCode;
        var headers = response.Headers;
        if (answer.Nonce is { } nonce)
        {
            headers["Replay-Nonce"] = nonce;
        }

        if (answer.Location is { } location)
        {
            headers.Location = location.AbsoluteUri;
        }

        if (answer.RetryAfter is { } retryAfter)
        {
            headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        if (answer.Links.Count > 0)
        {
            headers.Link = answer.Links.Select(l => $"<{l.Url.AbsoluteUri}>;rel=\"{l.Relation}\"").ToArray();
        }

        headers.CacheControl = "no-store";
        if (answer.ContentType is { } contentType)
        {
            response.ContentType = contentType;
        }

        if (!answer.Body.IsEmpty && !HttpMethods.IsHead(context.Request.Method))
        {
            response.ContentLength = answer.Body.Length;
            await response.Body.WriteAsync(answer.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static byte[] Problem(string type, int status, string detail)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "urn:ietf:params:acme:error:" + type);
            writer.WriteString("detail", detail);
            writer.WriteNumber("status", status);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
