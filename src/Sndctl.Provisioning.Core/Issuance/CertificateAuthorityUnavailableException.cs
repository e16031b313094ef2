namespace Sndctl.Provisioning.Core;

/// <summary>The CA cannot issue right now (unreachable, overloaded or rate limited); try again later.</summary>
public class CertificateAuthorityUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CertificateAuthorityUnavailableException(string message, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException) => RetryAfter = retryAfter;

    /// <summary>When the CA said to come back, if it said.</summary>
    public TimeSpan? RetryAfter { get; }
}
