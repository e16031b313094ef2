using System.Buffers;
using System.Text.Json;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>Small JSON documents written directly (no reflection), and the JSON read from payloads.</summary>
internal static class AcmeJson
{
    public const string ContentType = "application/json";
    public const string ProblemContentType = "application/problem+json";
    public const string JoseContentType = "application/jose+json";
    public const string PemChainContentType = "application/pem-certificate-chain";

    /// <summary>The JWS algorithms account keys may use.</summary>
    public static readonly string[] Algorithms = ["ES256", "ES384", "RS256"];

    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An RFC 3339 timestamp in UTC, as ACME writes them.</summary>
    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static string? String(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
