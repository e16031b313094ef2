using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>
/// Reads a JSON body with a hard size limit, turning every way it can be wrong into a 4xx problem
/// (minimal API binding would answer some of them with an empty 400 or a 500).
/// </summary>
internal static class JsonBody
{
    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo, long limit)
        where T : class
    {
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            return (null, Problems.PayloadTooLarge(limit));
        }

        if (request.ContentType is not null && !request.HasJsonContentType())
        {
            return (null, Problems.UnsupportedMediaType());
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1, 16 * 1024));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        return (null, Problems.PayloadTooLarge(limit));
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1, buffer.Length * 2L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read;
                try
                {
                    read = await request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted).ConfigureAwait(false);
                }
                catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    return (null, Problems.PayloadTooLarge(limit));
                }
                catch (Exception ex) when (BadRequestExceptionHandler.IsUnreadableRequest(ex))
                {
                    // A bad chunk size or suffix, a body shorter than its Content-Length: the client's fault.
                    return (null, Problems.BadRequest("The request body is malformed or incomplete (chunked encoding, Content-Length); send it again whole."));
                }

                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    return (null, Problems.PayloadTooLarge(limit));
                }
            }

            if (length == 0)
            {
                return (null, Problems.BadRequest("The request body is empty; send a JSON object."));
            }

            try
            {
                var value = JsonSerializer.Deserialize(buffer.AsSpan(0, length), typeInfo);
                return value is null ? (null, Problems.BadRequest("The request body must be a JSON object.")) : (value, null);
            }
            catch (JsonException ex)
            {
                var where = ex.Path is { Length: > 1 } path ? $" at {path}" : string.Empty;
                return (null, Problems.BadRequest($"The request body is not valid JSON for this endpoint{where}."));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
