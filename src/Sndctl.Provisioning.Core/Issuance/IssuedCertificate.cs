namespace Sndctl.Provisioning.Core;

/// <summary>The issuer's answer.</summary>
/// <param name="CertificatePem">PEM: the leaf first, then the intermediates.</param>
/// <param name="RenewAfter">A renewal time suggested by the CA (ACME ARI); <see langword="null"/> to use the default window.</param>
public sealed record IssuedCertificate(string CertificatePem, DateTimeOffset? RenewAfter = null);
