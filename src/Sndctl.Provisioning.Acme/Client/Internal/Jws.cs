using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>Flattened JSON JWS (RFC 7515 §7.2.2) as ACME uses it (RFC 8555 §6.2).</summary>
internal static class Jws
{
    /// <summary>
    /// Signs a request: protected header with <c>alg</c>, <c>nonce</c>, <c>url</c> and either
    /// <c>jwk</c> (new account, key change) or <c>kid</c>; a <see langword="null"/> payload is POST-as-GET.
    /// </summary>
    public static byte[] Sign(AcmeAccountKey key, Uri url, string nonce, Uri? kid, byte[]? payload)
    {
        var header = Payload(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("alg", key.JwsAlgorithm);
            if (kid is null)
            {
                writer.WritePropertyName("jwk");
                writer.WriteRawValue(key.JwkJson, skipInputValidation: true);
            }
            else
            {
                writer.WriteString("kid", kid.AbsoluteUri);
            }

            writer.WriteString("nonce", nonce);
            writer.WriteString("url", url.AbsoluteUri);
            writer.WriteEndObject();
        });
        return Assemble(header, payload, data => key.Sign(data));
    }

    /// <summary>The <c>externalAccountBinding</c> member (RFC 8555 §7.3.4): the account JWK MACed with the CA's key.</summary>
    public static byte[] CreateExternalAccountBinding(AcmeAccountKey key, string keyId, byte[] hmacKey, Uri newAccountUrl)
    {
        var header = Payload(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("alg", "HS256");
            writer.WriteString("kid", keyId);
            writer.WriteString("url", newAccountUrl.AbsoluteUri);
            writer.WriteEndObject();
        });
        return Assemble(header, Encoding.UTF8.GetBytes(key.JwkJson), data => HMACSHA256.HashData(hmacKey, data));
    }

    /// <summary>The inner JWS of a key change (RFC 8555 §7.3.5), signed by the new key.</summary>
    public static byte[] CreateKeyChange(AcmeAccountKey oldKey, AcmeAccountKey newKey, Uri accountUrl, Uri keyChangeUrl)
    {
        var header = Payload(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("alg", newKey.JwsAlgorithm);
            writer.WritePropertyName("jwk");
            writer.WriteRawValue(newKey.JwkJson, skipInputValidation: true);
            writer.WriteString("url", keyChangeUrl.AbsoluteUri);
            writer.WriteEndObject();
        });
        var payload = Payload(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("account", accountUrl.AbsoluteUri);
            writer.WritePropertyName("oldKey");
            writer.WriteRawValue(oldKey.JwkJson, skipInputValidation: true);
            writer.WriteEndObject();
        });
        return Assemble(header, payload, data => newKey.Sign(data));
    }

    /// <summary>Writes a small JSON document to bytes.</summary>
    public static byte[] Payload(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Assemble(byte[] header, byte[]? payload, Func<byte[], byte[]> sign)
    {
        var protectedPart = Base64Url.EncodeToString(header);
        var payloadPart = payload is null ? string.Empty : Base64Url.EncodeToString(payload);
        var signature = sign(Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart));
        return Payload(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("protected", protectedPart);
            writer.WriteString("payload", payloadPart);
            writer.WriteString("signature", Base64Url.EncodeToString(signature));
            writer.WriteEndObject();
        });
    }
}
