namespace Sndctl.Provisioning.Core;

/// <summary>The CA refused to issue for a reason that waiting will not fix.</summary>
public class CertificateIssuanceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CertificateIssuanceException(string message, Exception? innerException = null) : base(message, innerException) { }
}
