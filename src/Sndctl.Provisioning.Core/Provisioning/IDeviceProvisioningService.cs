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
    Task<AddressUpdateResult> UpdateAddressesAsync(string deviceId, string? secret, IReadOnlyList<string?>? addresses, CancellationToken cancellationToken);

    /// <summary>
    /// The certificate for <paramref name="certificateSigningRequest"/> (DER, the device's own key) for a device that
    /// another entry point authenticated (the ACME front door, by the account its EAB bound): the same decision and
    /// issuance as <see cref="RegisterAsync"/> — the stored certificate when it is for that key and not yet due, else
    /// one issuance at a time per device, with the CA budget, its queue and the per-device limits — waiting at most
    /// <paramref name="waitBudget"/> before answering <see cref="ProvisioningOutcome.Pending"/>.
    /// </summary>
    Task<ProvisioningResult> RequestCertificateAsync(string deviceId, byte[] certificateSigningRequest, TimeSpan waitBudget, CancellationToken cancellationToken);
}
