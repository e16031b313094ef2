namespace Sndctl.Provisioning.PrivateCa;

/// <summary>Options of the private certificate authority.</summary>
public sealed class PrivateCaOptions
{
    /// <summary>Key type of the CA keys made at first start (and so the signature algorithm of issued certificates).</summary>
    public PrivateCaKeyAlgorithm KeyAlgorithm { get; set; } = PrivateCaKeyAlgorithm.EcdsaP256;

    /// <summary>Lifetime of device certificates. Default 90 days.</summary>
    public TimeSpan CertificateLifetime { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How far issued certificates start in the past, for devices whose clocks run behind.</summary>
    public TimeSpan Backdate { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Common name of a generated root.</summary>
    public string RootName { get; set; } = "Sndctl Provisioning Private Root CA";

    /// <summary>
    /// PEM files of an existing CA to use instead of generating one: the root certificate, and the issuing
    /// (intermediate) certificate with its PKCS#8 key. All three or none.
    /// </summary>
    public string? RootCertificateFile { get; set; }

    /// <summary>The issuing CA's certificate (PEM), signed by the root.</summary>
    public string? IssuerCertificateFile { get; set; }

    /// <summary>The issuing CA's private key (PKCS#8 PEM, unencrypted; protect the file).</summary>
    public string? IssuerKeyFile { get; set; }
}

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
