namespace Sndctl.Provisioning.Core;

/// <summary>The issuer's answer.</summary>
/// <param name="CertificatePem">PEM: the leaf first, then the intermediates.</param>
/// <param name="RenewAfter">A renewal time suggested by the CA (ACME ARI); <see langword="null"/> to use the default window.</param>
public sealed record IssuedCertificate(string CertificatePem, DateTimeOffset? RenewAfter = null)
{
    /// <summary>
    /// Which CA issued it, when the issuer can use more than one (the ACME issuer: the directory URL of the
    /// primary or of the fallback that issued); kept as <see cref="DeviceCertificate.CertificateAuthority"/>.
    /// </summary>
    public string? CertificateAuthority { get; init; }
}
