namespace Sndctl.Provisioning.Core;

/// <summary>What a device receives: everything it needs to serve HTTPS.</summary>
/// <param name="DeviceId">The device ID.</param>
/// <param name="Hostname">The hostname the certificate is for.</param>
/// <param name="CertificatePem">PEM: the leaf first, then the intermediates.</param>
/// <param name="PrivateKeyPem">PKCS#8 PEM; <see langword="null"/> when the device sent a CSR.</param>
/// <param name="NotBefore">Start of validity.</param>
/// <param name="NotAfter">End of validity.</param>
/// <param name="RenewAfter">When the device should call renew.</param>
/// <param name="Addresses">The device's LAN addresses as stored (published for <paramref name="Hostname"/>).</param>
public sealed record ProvisionedCertificate(
    string DeviceId,
    string Hostname,
    string CertificatePem,
    string? PrivateKeyPem,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    DateTimeOffset RenewAfter,
    IReadOnlyList<System.Net.IPAddress>? Addresses = null)
{
    /// <summary>The stored certificate's ID (<see cref="DeviceCertificate.Id"/>).</summary>
    public Guid CertificateId { get; init; }
}
