namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// One issuance as the pipeline's steps see it: the device, the key it asks for (its CSR, or none: the server
/// makes one), the issuance's own service scope and cancellation (not a request's), the issuer and the options
/// read at its start. Made by <see cref="IssuanceCoordinator"/> under the device's lease.
/// </summary>
internal sealed record IssuanceScope(
    string DeviceId,
    string Hostname,
    DeviceCsr? DeviceCsr,
    IServiceProvider Services,
    ICertificateIssuer Issuer,
    DeviceProvisioningOptions Options,
    CancellationToken CancellationToken);

/// <summary>A CSR sent by the device, already checked.</summary>
internal sealed record DeviceCsr(byte[] Der, byte[] SubjectPublicKeyInfo);

/// <summary>
/// The end of an issuance: a stored certificate (and the plain key when the server made it), held
/// elsewhere, refused (the device was disabled or deleted meanwhile), or limited (too many early re-issuances).
/// </summary>
internal sealed record IssuanceOutcome(DeviceCertificate? Certificate, string? PrivateKeyPem, ProvisioningOutcome? Refusal = null, TimeSpan? RetryAfter = null)
{
    public static readonly IssuanceOutcome HeldElsewhere = new(null, null);

    public static IssuanceOutcome Refused(ProvisioningOutcome refusal) => new(null, null, refusal);

    public static IssuanceOutcome Limited(TimeSpan retryAfter, string detail) => new(null, null, ProvisioningOutcome.IssuanceLimited, retryAfter) { Detail = detail };

    /// <summary>What the device is told when limited.</summary>
    public string? Detail { get; init; }
}
