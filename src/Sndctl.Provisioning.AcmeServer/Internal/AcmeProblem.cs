using System.Text.Json;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>An RFC 8555 §6.7 problem: its type (<c>urn:ietf:params:acme:error:…</c>), HTTP status and detail.</summary>
internal sealed record AcmeProblem(string Type, int Status, string Detail)
{
    public const string Namespace = "urn:ietf:params:acme:error:";

    /// <summary>The Retry-After a client should wait (rate limits, a CA that cannot issue now).</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The <c>Location</c> of the conflicting resource (a key change to a key another account has).</summary>
    public Uri? Location { get; init; }

    /// <summary>The device whose credentials failed (counted by the HTTP layer's throttle).</summary>
    public string? FailedDeviceId { get; init; }

    public static AcmeProblem Malformed(string detail) => new(Namespace + "malformed", 400, detail);

    public static AcmeProblem Unauthorized(string detail) => new(Namespace + "unauthorized", 403, detail);

    public static AcmeProblem BadNonce(string detail) => new(Namespace + "badNonce", 400, detail);

    public static AcmeProblem BadSignatureAlgorithm(string detail) => new(Namespace + "badSignatureAlgorithm", 400, detail);

    public static AcmeProblem BadPublicKey(string detail) => new(Namespace + "badPublicKey", 400, detail);

    public static AcmeProblem AccountDoesNotExist(string detail) => new(Namespace + "accountDoesNotExist", 400, detail);

    public static AcmeProblem ExternalAccountRequired(string detail) => new(Namespace + "externalAccountRequired", 400, detail);

    public static AcmeProblem RejectedIdentifier(string detail) => new(Namespace + "rejectedIdentifier", 400, detail);

    public static AcmeProblem BadCsr(string detail) => new(Namespace + "badCSR", 400, detail);

    public static AcmeProblem OrderNotReady(string detail) => new(Namespace + "orderNotReady", 403, detail);

    public static AcmeProblem AlreadyRevoked(string detail) => new(Namespace + "alreadyRevoked", 400, detail);

    public static AcmeProblem BadRevocationReason(string detail) => new(Namespace + "badRevocationReason", 400, detail);

    public static AcmeProblem RateLimited(string detail, TimeSpan retryAfter) => new(Namespace + "rateLimited", 429, detail) { RetryAfter = retryAfter };

    public static AcmeProblem NotFound(string detail) => new(Namespace + "malformed", 404, detail);

    public static AcmeProblem MethodNotAllowed(string detail) => new(Namespace + "malformed", 405, detail);

    public static AcmeProblem UnsupportedMediaType(string detail) => new(Namespace + "malformed", 415, detail);

    public static AcmeProblem Conflict(string detail, Uri location) => new(Namespace + "malformed", 409, detail) { Location = location };

    /// <summary>The server cannot answer now (a store or the CA); the client tries again after Retry-After.</summary>
    public static AcmeProblem Unavailable(string detail, TimeSpan retryAfter) => new(Namespace + "serverInternal", 503, detail) { RetryAfter = retryAfter };

    public static AcmeProblem ServerInternal(string detail) => new(Namespace + "serverInternal", 500, detail);

    /// <summary>The problem document, <c>application/problem+json</c>.</summary>
    public byte[] ToJson() => AcmeJson.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("type", Type);
        writer.WriteString("detail", Detail);
        writer.WriteNumber("status", Status);
        if (Type == Namespace + "badSignatureAlgorithm")
        {
            writer.WriteStartArray("algorithms");
            foreach (var algorithm in AcmeJson.Algorithms)
            {
                writer.WriteStringValue(algorithm);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    });

    /// <summary>The problem as the <c>error</c> member of an order.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", Type);
        writer.WriteString("detail", Detail);
        writer.WriteNumber("status", Status);
        writer.WriteEndObject();
    }
}
