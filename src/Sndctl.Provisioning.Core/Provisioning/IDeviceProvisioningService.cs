namespace Sndctl.Provisioning.Core;

/// <summary>Register and renew: the device-facing operations.</summary>
public interface IDeviceProvisioningService
{
    /// <summary>
    /// First boot (and any later boot): returns the device's valid certificate, or issues one when it
    /// has none or its renewal window has opened. Idempotent: repeated calls never burn CA quota.
    /// </summary>
    Task<ProvisioningResult> RegisterAsync(ProvisioningRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Like <see cref="RegisterAsync"/>, for a device that names its hostname; a hostname that is not
    /// the device's own is refused.
    /// </summary>
    Task<ProvisioningResult> RenewAsync(ProvisioningRequest request, CancellationToken cancellationToken);
}

/// <summary>A device's register or renew call.</summary>
/// <param name="DeviceId">The device ID.</param>
/// <param name="Secret">The device secret from the <c>X-Device-Secret</c> header.</param>
/// <param name="Hostname">The hostname the device claims (renew).</param>
/// <param name="CertificateSigningRequestPem">A PEM PKCS#10 request, when the device keeps its own key.</param>
public sealed record ProvisioningRequest(string DeviceId, string? Secret, string? Hostname = null, string? CertificateSigningRequestPem = null);

/// <summary>How a register or renew call ended.</summary>
public enum ProvisioningOutcome
{
    /// <summary>The device's current certificate is returned unchanged.</summary>
    Current,
    /// <summary>A new certificate was issued and is returned.</summary>
    Issued,
    /// <summary>Issuance is under way; call again after <see cref="ProvisioningResult.RetryAfter"/>.</summary>
    Pending,
    /// <summary>Unknown device or wrong secret (indistinguishable on purpose).</summary>
    Unauthorized,
    /// <summary>The device is disabled.</summary>
    Disabled,
    /// <summary>The hostname is not the device's own.</summary>
    HostnameMismatch,
    /// <summary>The request is malformed (see <see cref="ProvisioningResult.Detail"/>).</summary>
    Invalid,
    /// <summary>The CA or DNS cannot issue now; call again after <see cref="ProvisioningResult.RetryAfter"/>.</summary>
    Unavailable,
    /// <summary>The CA refused for good (see <see cref="ProvisioningResult.Detail"/>).</summary>
    Failed,
    /// <summary>
    /// The device asked for more early re-issuances than <see cref="DeviceProvisioningOptions.DeviceIssuanceLimit"/>
    /// allows; call again after <see cref="ProvisioningResult.RetryAfter"/>.
    /// </summary>
    IssuanceLimited,
}

/// <summary>The result of a register or renew call.</summary>
public sealed record ProvisioningResult(
    ProvisioningOutcome Outcome,
    ProvisionedCertificate? Certificate = null,
    TimeSpan? RetryAfter = null,
    string? Detail = null)
{
    /// <summary>Whether a certificate is returned.</summary>
    public bool Succeeded => Outcome is ProvisioningOutcome.Current or ProvisioningOutcome.Issued;
}

/// <summary>What a device receives: everything it needs to serve HTTPS.</summary>
/// <param name="DeviceId">The device ID.</param>
/// <param name="Hostname">The hostname the certificate is for.</param>
/// <param name="CertificatePem">PEM: the leaf first, then the intermediates.</param>
/// <param name="PrivateKeyPem">PKCS#8 PEM; <see langword="null"/> when the device sent a CSR.</param>
/// <param name="NotBefore">Start of validity.</param>
/// <param name="NotAfter">End of validity.</param>
/// <param name="RenewAfter">When the device should call renew.</param>
public sealed record ProvisionedCertificate(
    string DeviceId,
    string Hostname,
    string CertificatePem,
    string? PrivateKeyPem,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    DateTimeOffset RenewAfter);
