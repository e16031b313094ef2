namespace Sndctl.Provisioning.Core;

/// <summary>The client's network submits too fast, or has too many requests waiting for an admin; nothing was stored (HTTP: 429).</summary>
public sealed class CsrSubmissionLimitedException(string message, TimeSpan retryAfter, bool tooManyPending) : Exception(message)
{
    /// <summary>When the client may submit again.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;

    /// <summary>True when the limit is on requests waiting for an admin, false when on submissions per minute.</summary>
    public bool TooManyPending { get; } = tooManyPending;
}
