using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Sndctl.Provisioning.Acme;

/// <summary>
/// An ACME account key: signs JWS requests and publishes itself as a JWK (RFC 7517) with its
/// RFC 7638 thumbprint. Immutable and safe to share between threads.
/// </summary>
public sealed class AcmeAccountKey : IDisposable
{
    private readonly ECDsa? _ecdsa;
    private readonly RSA? _rsa;

    private AcmeAccountKey(ECDsa? ecdsa, RSA? rsa, AcmeKeyAlgorithm algorithm)
    {
        _ecdsa = ecdsa;
        _rsa = rsa;
        Algorithm = algorithm;
        JwkJson = BuildJwk();
        Thumbprint = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(JwkJson)));
    }

    /// <summary>The JWS algorithm.</summary>
    public AcmeKeyAlgorithm Algorithm { get; }

    /// <summary>The JWS <c>alg</c> name: <c>ES256</c>, <c>ES384</c> or <c>RS256</c>.</summary>
    public string JwsAlgorithm => Algorithm switch
    {
        AcmeKeyAlgorithm.ES256 => "ES256",
        AcmeKeyAlgorithm.ES384 => "ES384",
        _ => "RS256",
    };

    /// <summary>
    /// The public key as a JWK in RFC 7638 canonical form (required members only, sorted, no
    /// whitespace); the same text goes into JWS headers.
    /// </summary>
    public string JwkJson { get; }

    /// <summary>The RFC 7638 SHA-256 thumbprint of the public key, base64url.</summary>
    public string Thumbprint { get; }

    /// <summary>Makes a new key.</summary>
    public static AcmeAccountKey Create(AcmeKeyAlgorithm algorithm = AcmeKeyAlgorithm.ES256) => algorithm switch
    {
        AcmeKeyAlgorithm.ES256 => new AcmeAccountKey(ECDsa.Create(ECCurve.NamedCurves.nistP256), null, algorithm),
        AcmeKeyAlgorithm.ES384 => new AcmeAccountKey(ECDsa.Create(ECCurve.NamedCurves.nistP384), null, algorithm),
        AcmeKeyAlgorithm.RS256 => new AcmeAccountKey(null, RSA.Create(2048), algorithm),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown key algorithm."),
    };

    /// <summary>Loads a key from PKCS#8 PEM (as written by <see cref="ExportPem"/>).</summary>
    /// <exception cref="ArgumentException">The PEM holds no supported key (P-256, P-384 or RSA of 2048 bits and up).</exception>
    public static AcmeAccountKey FromPem(string pem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pem);
        if (pem.Contains("RSA PRIVATE KEY", StringComparison.Ordinal) || IsRsaPkcs8(pem))
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            if (rsa.KeySize < 2048)
            {
                rsa.Dispose();
                throw new ArgumentException("RSA account keys must have at least 2048 bits.", nameof(pem));
            }

            return new AcmeAccountKey(null, rsa, AcmeKeyAlgorithm.RS256);
        }

        var ecdsa = ECDsa.Create();
        ecdsa.ImportFromPem(pem);
        var algorithm = ecdsa.KeySize switch
        {
            256 => AcmeKeyAlgorithm.ES256,
            384 => AcmeKeyAlgorithm.ES384,
            _ => (AcmeKeyAlgorithm?)null,
        };
        if (algorithm is null)
        {
            ecdsa.Dispose();
            throw new ArgumentException("ECDSA account keys must be on P-256 or P-384.", nameof(pem));
        }

        return new AcmeAccountKey(ecdsa, null, algorithm.Value);
    }

    /// <summary>Exports the private key as PKCS#8 PEM. Store it encrypted.</summary>
    public string ExportPem() => _ecdsa is not null ? _ecdsa.ExportPkcs8PrivateKeyPem() : _rsa!.ExportPkcs8PrivateKeyPem();

    /// <summary>Signs <paramref name="data"/> as JWS requires (ECDSA signatures as fixed-size r||s).</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => Algorithm switch
    {
        AcmeKeyAlgorithm.ES256 => _ecdsa!.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        AcmeKeyAlgorithm.ES384 => _ecdsa!.SignData(data, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        _ => _rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
    };

    /// <summary>
    /// The key authorization for a challenge token (RFC 8555 §8.1): <c>token.thumbprint</c>.
    /// </summary>
    public string GetKeyAuthorization(string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        return token + "." + Thumbprint;
    }

    /// <summary>
    /// The TXT value for a dns-01 challenge (RFC 8555 §8.4): base64url(SHA-256(key authorization)).
    /// </summary>
    public string GetDns01TxtValue(string token) => ComputeDns01TxtValue(GetKeyAuthorization(token));

    /// <summary>The dns-01 TXT value of a key authorization: base64url(SHA-256(keyAuthorization)).</summary>
    public static string ComputeDns01TxtValue(string keyAuthorization)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyAuthorization);
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(keyAuthorization)));
    }

    /// <summary>Computes the RFC 7638 thumbprint of a public JWK given as JSON (EC, RSA or oct).</summary>
    /// <exception cref="ArgumentException">A required member is missing or the key type is unknown.</exception>
    public static string ComputeThumbprint(string jwkJson)
    {
        using var document = JsonDocument.Parse(jwkJson);
        var root = document.RootElement;
        string Member(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new ArgumentException($"The JWK has no '{name}' member.", nameof(jwkJson));

        var canonical = Member("kty") switch
        {
            "EC" => Canonical(("crv", Member("crv")), ("kty", "EC"), ("x", Member("x")), ("y", Member("y"))),
            "RSA" => Canonical(("e", Member("e")), ("kty", "RSA"), ("n", Member("n"))),
            "oct" => Canonical(("k", Member("k")), ("kty", "oct")),
            var other => throw new ArgumentException($"Key type '{other}' is not supported.", nameof(jwkJson)),
        };
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _ecdsa?.Dispose();
        _rsa?.Dispose();
    }

    private string BuildJwk()
    {
        if (_ecdsa is not null)
        {
            var parameters = _ecdsa.ExportParameters(includePrivateParameters: false);
            var curve = Algorithm == AcmeKeyAlgorithm.ES256 ? "P-256" : "P-384";
            return Canonical(("crv", curve), ("kty", "EC"), ("x", Base64Url.EncodeToString(parameters.Q.X!)), ("y", Base64Url.EncodeToString(parameters.Q.Y!)));
        }

        var rsa = _rsa!.ExportParameters(includePrivateParameters: false);
        return Canonical(("e", Base64Url.EncodeToString(rsa.Exponent!)), ("kty", "RSA"), ("n", Base64Url.EncodeToString(rsa.Modulus!)));
    }

    /// <summary>Members in the order given (callers pass them sorted), no whitespace.</summary>
    private static string Canonical(params (string Name, string Value)[] members)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in members)
            {
                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static bool IsRsaPkcs8(string pem)
    {
        try
        {
            using var probe = RSA.Create();
            probe.ImportFromPem(pem);
            return true;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return false;
        }
    }
}
