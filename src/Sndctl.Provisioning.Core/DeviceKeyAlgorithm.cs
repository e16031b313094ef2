namespace Sndctl.Provisioning.Core;

/// <summary>Key types for server-made device keys.</summary>
public enum DeviceKeyAlgorithm
{
    /// <summary>ECDSA on NIST P-256 (default).</summary>
    EcdsaP256 = 0,

    /// <summary>RSA, 2048 bits.</summary>
    Rsa2048 = 1,

    /// <summary>RSA, 3072 bits.</summary>
    Rsa3072 = 2,
}
