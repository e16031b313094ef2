namespace Sndctl.Provisioning.Core;

/// <summary>The result of a register or renew call.</summary>
public sealed record ProvisioningResult(
    ProvisioningOutcome Outcome,
    ProvisionedCertificate? Certificate = null,
    TimeSpan? RetryAfter = null,
    string? Detail = null)
{
    /// <summary>The place in the CA budget's queue (1 = next), when <see cref="Outcome"/> is <see cref="ProvisioningOutcome.Queued"/>.</summary>
    public int? QueuePosition { get; init; }

    /// <summary>When the queued device's turn is expected.</summary>
    public DateTimeOffset? EstimatedAt { get; init; }

    /// <summary>Whether a certificate is returned.</summary>
    public bool Succeeded => Outcome is ProvisioningOutcome.Current or ProvisioningOutcome.Issued;
}
