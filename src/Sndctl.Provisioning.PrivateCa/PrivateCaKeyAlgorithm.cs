namespace Sndctl.Provisioning.PrivateCa;

/// <summary>CA key types.</summary>
public enum PrivateCaKeyAlgorithm
{
    /// <summary>ECDSA P-256 (default).</summary>
    EcdsaP256 = 0,

    /// <summary>RSA 2048.</summary>
    Rsa2048 = 1,

    /// <summary>RSA 3072.</summary>
    Rsa3072 = 2,
}
