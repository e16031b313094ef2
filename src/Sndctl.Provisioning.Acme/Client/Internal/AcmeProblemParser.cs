using System.Net;
using System.Text;
using System.Text.Json;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>Reads problem documents, and makes one up for answers that are not (a proxy's HTML 502).</summary>
internal static class AcmeProblemParser
{
    public static AcmeProblem Parse(ReadOnlySpan<byte> body, string? mediaType, HttpStatusCode statusCode)
    {
        if (body.Length > 0 && (mediaType is "application/problem+json" or "application/json" || body.TrimStart(" \r\n\t"u8).StartsWith("{"u8)))
        {
            try
            {
                if (JsonSerializer.Deserialize(body, AcmeJsonContext.Default.AcmeProblem) is { } problem)
                {
                    return problem.Status is null ? problem with { Status = (int)statusCode } : problem;
                }
            }
            catch (JsonException)
            {
                // Not a problem document after all; describe the answer below.
            }
        }

        var text = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 200)]).Trim();
        return new AcmeProblem
        {
            Type = (int)statusCode >= 500 ? AcmeErrorTypes.ServerInternal : null,
            Detail = text.Length == 0 ? $"HTTP {(int)statusCode} without a problem document." : $"HTTP {(int)statusCode} without a problem document: {text}",
            Status = (int)statusCode,
        };
    }
}
