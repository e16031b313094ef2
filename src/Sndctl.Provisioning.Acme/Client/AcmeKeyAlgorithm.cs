
namespace Sndctl.Provisioning.Acme;

/// <summary>Signature algorithms for ACME account keys.</summary>
public enum AcmeKeyAlgorithm
{
    /// <summary>ECDSA P-256 with SHA-256 (JWS <c>ES256</c>). The default: small and fast.</summary>
    ES256 = 0,

    /// <summary>ECDSA P-384 with SHA-384 (JWS <c>ES384</c>).</summary>
    ES384 = 1,

    /// <summary>RSA 2048 PKCS#1 v1.5 with SHA-256 (JWS <c>RS256</c>).</summary>
    RS256 = 2,
}
