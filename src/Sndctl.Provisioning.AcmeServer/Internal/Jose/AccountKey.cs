using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>
/// An account's public key from a JWK (RFC 7517): EC P-256 or P-384, or RSA of 2048 to 4096 bits. Keeps the
/// RFC 7638 canonical form (what is stored) and its SHA-256 thumbprint (one account per key).
/// </summary>
internal sealed class AccountKey : IDisposable
{
    private readonly ECDsa? _ec;
    private readonly RSA? _rsa;

    private AccountKey(ECDsa? ec, RSA? rsa, string canonicalJson)
    {
        (_ec, _rsa) = (ec, rsa);
        CanonicalJson = canonicalJson;
        Thumbprint = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalJson)));
    }

    /// <summary>The JWK in RFC 7638 canonical form: required members only, sorted, no white space.</summary>
    public string CanonicalJson { get; }

    /// <summary>The RFC 7638 SHA-256 thumbprint, base64url.</summary>
    public string Thumbprint { get; }

    /// <summary>The JWS algorithms this key verifies.</summary>
    public bool Accepts(string algorithm) => algorithm switch
    {
        "ES256" => _ec is not null && _ec.KeySize == 256,
        "ES384" => _ec is not null && _ec.KeySize == 384,
        "RS256" => _rsa is not null,
        _ => false,
    };

    public bool Verify(string algorithm, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature) => algorithm switch
    {
        "ES256" when _ec is not null => _ec.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        "ES384" when _ec is not null => _ec.VerifyData(signingInput, signature, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        "RS256" when _rsa is not null => _rsa.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => false,
    };

    /// <summary>Reads a public JWK; null with the reason when it is not a key this server accepts.</summary>
    public static AccountKey? Read(JsonElement jwk, out string? error)
    {
        error = null;
        if (jwk.ValueKind != JsonValueKind.Object)
        {
            error = "The jwk is not a JSON object.";
            return null;
        }

        switch (String(jwk, "kty"))
        {
            case "EC":
                return ReadEc(jwk, out error);
            case "RSA":
                return ReadRsa(jwk, out error);
            case var other:
                error = $"The key type '{other}' is not accepted: use an EC (P-256, P-384) or RSA (2048 to 4096 bits) key.";
                return null;
        }
    }

    /// <summary>Reads a canonical JWK as stored.</summary>
    public static AccountKey? Read(string canonicalJson)
    {
        using var document = JsonDocument.Parse(canonicalJson);
        return Read(document.RootElement, out _);
    }

    private static AccountKey? ReadEc(JsonElement jwk, out string? error)
    {
        var curve = String(jwk, "crv");
        var (size, ecCurve) = curve switch
        {
            "P-256" => (32, ECCurve.NamedCurves.nistP256),
            "P-384" => (48, ECCurve.NamedCurves.nistP384),
            _ => (0, default(ECCurve)),
        };
        var (x, y) = (Bytes(jwk, "x"), Bytes(jwk, "y"));
        if (size == 0 || x?.Length != size || y?.Length != size || jwk.TryGetProperty("d", out _))
        {
            error = size == 0 ? $"The EC curve '{curve}' is not accepted: use P-256 or P-384." : "The EC key is not a public P-256 or P-384 key (x and y of the curve's size, no private part).";
            return null;
        }

        try
        {
            var ec = ECDsa.Create(new ECParameters { Curve = ecCurve, Q = new ECPoint { X = x, Y = y } });
            error = null;
            return new AccountKey(ec, null, $$"""{"crv":"{{curve}}","kty":"EC","x":"{{Base64Url.EncodeToString(x)}}","y":"{{Base64Url.EncodeToString(y)}}"}""");
        }
        catch (CryptographicException)
        {
            error = "The EC key's point is not on its curve.";
            return null;
        }
    }

    private static AccountKey? ReadRsa(JsonElement jwk, out string? error)
    {
        var (n, e) = (Bytes(jwk, "n"), Bytes(jwk, "e"));
        if (n is null || e is null || n.Length == 0 || e.Length is 0 or > 8 || n[0] == 0 || e[0] == 0 || jwk.TryGetProperty("d", out _))
        {
            error = "The RSA key is not a public key in minimal form (n and e, no private part).";
            return null;
        }

        if (n.Length * 8 is < 2048 or > 4096)
        {
            error = $"The RSA key has {n.Length * 8} bits: use 2048 to 4096.";
            return null;
        }

        try
        {
            var rsa = RSA.Create(new RSAParameters { Modulus = n, Exponent = e });
            error = null;
            return new AccountKey(null, rsa, $$"""{"e":"{{Base64Url.EncodeToString(e)}}","kty":"RSA","n":"{{Base64Url.EncodeToString(n)}}"}""");
        }
        catch (CryptographicException)
        {
            error = "The RSA key cannot be used.";
            return null;
        }
    }

    private static string? String(JsonElement jwk, string name)
        => jwk.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[]? Bytes(JsonElement jwk, string name)
        => String(jwk, name) is { } text && Base64Url.IsValid(text) && !text.EndsWith('=') ? Base64Url.DecodeFromChars(text) : null;

    public void Dispose()
    {
        _ec?.Dispose();
        _rsa?.Dispose();
    }
}
