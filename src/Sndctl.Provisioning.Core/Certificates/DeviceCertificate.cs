namespace Sndctl.Provisioning.Core;

/// <summary>A certificate issued to a device. Every issuance is kept as history.</summary>
public sealed class DeviceCertificate
{
    /// <summary>Store identity of this certificate.</summary>
    public Guid Id { get; init; } = Guid.NewGuid();

    /// <summary>The device the certificate was issued to.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The name of the <see cref="ICertificateIssuer"/> that issued it.</summary>
    public required string Issuer { get; init; }

    /// <summary>
    /// The CA that issued it when the issuer uses more than one (ACME: the directory URL of the primary or a
    /// fallback, see <see cref="IssuedCertificate.CertificateAuthority"/>); <see langword="null"/> when the issuer has one CA.
    /// </summary>
    public string? CertificateAuthority { get; init; }

    /// <summary>Serial number, upper-case hex.</summary>
    public required string SerialNumber { get; init; }

    /// <summary>SHA-256 thumbprint of the leaf, upper-case hex.</summary>
    public required string Thumbprint { get; init; }

    /// <summary>PEM: the leaf first, then the intermediates.</summary>
    public required string CertificatePem { get; init; }

    /// <summary>
    /// The server-made private key (PKCS#8 PEM) encrypted with ASP.NET Core Data Protection;
    /// <see langword="null"/> when the device sent its own CSR.
    /// </summary>
    public string? ProtectedPrivateKey { get; init; }

    /// <summary>Start of validity.</summary>
    public DateTimeOffset NotBefore { get; init; }

    /// <summary>End of validity.</summary>
    public DateTimeOffset NotAfter { get; init; }

    /// <summary>From this time on, register and renew issue a replacement.</summary>
    public DateTimeOffset RenewAfter { get; init; }

    /// <summary>When the server stored the certificate.</summary>
    public DateTimeOffset IssuedAt { get; init; }

    /// <summary>When the certificate was revoked at its CA, if it was.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>The certificate this one replaced (renewal), if any.</summary>
    public Guid? ReplacesId { get; init; }

    /// <summary>
    /// Whether it was issued while the device's previous certificate was still valid and not yet due
    /// (a new key or CSR): counted against <see cref="DeviceProvisioningOptions.DeviceIssuanceLimit"/>.
    /// </summary>
    public bool EarlyReissue { get; init; }

    /// <summary>Optimistic concurrency token.</summary>
    public Guid ConcurrencyStamp { get; set; } = Guid.NewGuid();

    /// <summary>Whether the certificate is usable at <paramref name="now"/>.</summary>
    public bool IsValidAt(DateTimeOffset now) => RevokedAt is null && NotBefore <= now && now < NotAfter;
}
