namespace Sndctl.Provisioning.Core;

/// <summary>The answer to a device asking for a new secret (<see cref="IDeviceProvisioningService.RotateSecretAsync"/>).</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="DeviceId">The device, when its credentials were accepted.</param>
/// <param name="Secret">The new secret (shown only here), when <see cref="ProvisioningOutcome.Current"/>.</param>
/// <param name="Detail">Why not, for a refusal.</param>
public sealed record SecretRotationResult(ProvisioningOutcome Outcome, string? DeviceId = null, string? Secret = null, string? Detail = null)
{
    /// <summary>The device's hostname (a device learns it here before it makes its first CSR), when the credentials were accepted.</summary>
    public string? Hostname { get; init; }
}
