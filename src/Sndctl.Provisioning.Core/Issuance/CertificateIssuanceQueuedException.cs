namespace Sndctl.Provisioning.Core;

/// <summary>
/// The CA's budget cannot cover this new certificate now: the device waits in a queue (first come, first
/// served; asking again keeps its place) and is told when its turn is expected. A kind of
/// <see cref="CertificateAuthorityUnavailableException"/>, so code unaware of queues treats it as "try later".
/// </summary>
public sealed class CertificateIssuanceQueuedException : CertificateAuthorityUnavailableException
{
    /// <summary>Creates the exception.</summary>
    public CertificateIssuanceQueuedException(string message, int position, DateTimeOffset estimatedAt, TimeSpan retryAfter)
        : base(message, retryAfter)
    {
        Position = position;
        EstimatedAt = estimatedAt;
    }

    /// <summary>The place in the queue; 1 is next.</summary>
    public int Position { get; }

    /// <summary>When the budget is expected to have a slot for this device.</summary>
    public DateTimeOffset EstimatedAt { get; }
}
