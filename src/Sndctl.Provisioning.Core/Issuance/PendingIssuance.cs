namespace Sndctl.Provisioning.Core;

/// <summary>
/// An issuance that began and has not ended, kept in the store from just before the issuer is called
/// until the certificate is stored, so that after a crash the next attempt for the device resumes it
/// (same CSR, same key, same CA order) instead of ordering again.
/// </summary>
public sealed class PendingIssuance
{
    /// <summary>The device.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The issuer's <see cref="ICertificateIssuer.Name"/>; another issuer starts afresh.</summary>
    public required string Issuer { get; init; }

    /// <summary>The DER CSR sent to the issuer.</summary>
    public required byte[] CertificateSigningRequest { get; init; }

    /// <summary>The CSR's DER SubjectPublicKeyInfo.</summary>
    public required byte[] PublicKey { get; init; }

    /// <summary>The key the server made for the device, encrypted with ASP.NET Core data protection; <see langword="null"/> when the device sent its CSR.</summary>
    public string? ProtectedPrivateKey { get; init; }

    /// <summary>The certificate being replaced, if any.</summary>
    public Guid? ReplacesCertificateId { get; init; }

    /// <summary>The device asked for a new key while its certificate was still good (counted against its issuance limit).</summary>
    public bool Early { get; init; }

    /// <summary>The issuer's reference to the work (the ACME order URL), once it has one.</summary>
    public string? IssuerReference { get; set; }

    /// <summary>When the issuance began.</summary>
    public DateTimeOffset StartedAt { get; init; }
}
