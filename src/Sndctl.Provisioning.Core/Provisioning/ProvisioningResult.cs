namespace Sndctl.Provisioning.Core;

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
