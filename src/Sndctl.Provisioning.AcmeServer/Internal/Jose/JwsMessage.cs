using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>
/// A flattened JSON JWS (RFC 7515 §7.2.2) as RFC 8555 §6.2 allows it: <c>protected</c>, <c>payload</c> and
/// <c>signature</c> only (no unprotected header, no general serialization), strict base64url, a protected
/// header that is a JSON object. Nothing is trusted until <see cref="AccountKey.Verify"/> says so.
/// </summary>
internal sealed class JwsMessage
{
    /// <summary>The largest body read: a CSR, a key and the JWS around them fit many times over.</summary>
    public const int MaxLength = 64 * 1024;

    private JwsMessage(JsonElement header, byte[] payload, byte[] signature, byte[] signingInput)
    {
        Header = header;
        Payload = payload;
        Signature = signature;
        SigningInput = signingInput;
    }

    /// <summary>The protected header (a clone: valid after the document is gone).</summary>
    public JsonElement Header { get; }

    /// <summary>The payload's bytes; empty for POST-as-GET.</summary>
    public byte[] Payload { get; }

    public byte[] Signature { get; }

    /// <summary>What the signature covers: <c>ASCII(protected "." payload)</c>.</summary>
    public byte[] SigningInput { get; }

    public string? Algorithm => Text("alg");

    public string? Nonce => Text("nonce");

    public string? Url => Text("url");

    public string? KeyId => Text("kid");

    public bool HasJwk => Header.TryGetProperty("jwk", out _);

    public JsonElement Jwk => Header.GetProperty("jwk");

    public bool IsPostAsGet => Payload.Length == 0;

    /// <summary>Reads a JWS; null with the reason for a malformed one.</summary>
    public static JwsMessage? Read(ReadOnlySpan<byte> body, out string? error)
    {
        error = "The body is not a flattened JSON JWS (protected, payload, signature).";
        if (body.Length is 0 or > MaxLength)
        {
            error = body.Length == 0 ? "The body is empty: send a flattened JSON JWS." : $"The body is longer than {MaxLength} bytes.";
            return null;
        }

        string? protectedPart = null, payloadPart = null, signaturePart = null;
        try
        {
            using var document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var member in document.RootElement.EnumerateObject())
            {
                if (member.Value.ValueKind != JsonValueKind.String)
                {
                    return null;
                }

                switch (member.Name)
                {
                    case "protected" when protectedPart is null:
                        protectedPart = member.Value.GetString();
                        break;
                    case "payload" when payloadPart is null:
                        payloadPart = member.Value.GetString();
                        break;
                    case "signature" when signaturePart is null:
                        signaturePart = member.Value.GetString();
                        break;
                    default:
                        error = $"The JWS member '{member.Name}' is not allowed: RFC 8555 takes protected, payload and signature only.";
                        return null;
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        if (protectedPart is null || payloadPart is null || signaturePart is null
            || Decode(protectedPart) is not { Length: > 0 } headerBytes || Decode(payloadPart) is not { } payload || Decode(signaturePart) is not { Length: > 0 } signature)
        {
            error = "The JWS needs protected, payload and signature, each in base64url without padding.";
            return null;
        }

        JsonElement header;
        try
        {
            using var headerDocument = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { MaxDepth = 16 });
            header = headerDocument.RootElement.Clone();
        }
        catch (JsonException)
        {
            error = "The JWS protected header is not JSON.";
            return null;
        }

        if (header.ValueKind != JsonValueKind.Object)
        {
            error = "The JWS protected header is not a JSON object.";
            return null;
        }

        error = null;
        return new JwsMessage(header, payload, signature, Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart));
    }

    /// <summary>The payload as JSON; null when it is not a JSON object.</summary>
    public JsonElement? PayloadObject()
    {
        try
        {
            using var document = JsonDocument.Parse(Payload, new JsonDocumentOptions { MaxDepth = 16 });
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private string? Text(string name)
        => Header.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[]? Decode(string text)
        => text.Length == 0 ? [] : Base64Url.IsValid(text) && !text.EndsWith('=') ? Base64Url.DecodeFromChars(text) : null;
}
