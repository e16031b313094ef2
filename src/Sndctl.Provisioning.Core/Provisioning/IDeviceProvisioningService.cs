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

    /// <summary>
    /// Replaces the device's LAN addresses between renewals (<c>POST /api/addresses</c>) and publishes them as
    /// A/AAAA records for its hostname. Outcomes: <see cref="ProvisioningOutcome.Current"/> (stored; the result's
    /// <see cref="AddressUpdateResult.Addresses"/> is the set), <see cref="ProvisioningOutcome.Invalid"/>,
    /// <see cref="ProvisioningOutcome.Unauthorized"/>, <see cref="ProvisioningOutcome.Disabled"/> or
    /// <see cref="ProvisioningOutcome.AddressChangesLimited"/>.
    /// </summary>
    /// <param name="deviceId">The device.</param>
    /// <param name="secret">Its secret.</param>
    /// <param name="addresses">Its LAN addresses, <c>[]</c> for none.</param>
    /// <param name="nameResolution">What it saw resolving its own hostname on its LAN, when it reports it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<AddressUpdateResult> UpdateAddressesAsync(string deviceId, string? secret, IReadOnlyList<string?>? addresses, DeviceNameResolution? nameResolution, CancellationToken cancellationToken);

    /// <summary>
    /// A new secret for the device, asked for with its current one (<c>POST /api/v1/secret</c>, e.g. at first boot to
    /// replace the factory secret). Crash-safe: the old secret keeps working until the first successful call made with
    /// the new one. Outcomes: <see cref="ProvisioningOutcome.Current"/> (the result's
    /// <see cref="SecretRotationResult.Secret"/>), <see cref="ProvisioningOutcome.Invalid"/>,
    /// <see cref="ProvisioningOutcome.Unauthorized"/> or <see cref="ProvisioningOutcome.Disabled"/>.
    /// </summary>
    Task<SecretRotationResult> RotateSecretAsync(string deviceId, string? secret, CancellationToken cancellationToken);

    /// <summary>
    /// The certificate for <paramref name="certificateSigningRequest"/> (DER, the device's own key) for a device that
    /// another entry point authenticated (the ACME front door, by the account its EAB bound): the same decision and
    /// issuance as <see cref="RegisterAsync"/> — the stored certificate when it is for that key and not yet due, else
    /// one issuance at a time per device, with the CA budget, its queue and the per-device limits — waiting at most
    /// <paramref name="waitBudget"/> before answering <see cref="ProvisioningOutcome.Pending"/>.
    /// </summary>
    Task<ProvisioningResult> RequestCertificateAsync(string deviceId, byte[] certificateSigningRequest, TimeSpan waitBudget, CancellationToken cancellationToken);
}
