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
}
