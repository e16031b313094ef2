namespace Sndctl.Provisioning.Dns.Rfc2136;

/// <summary>The DNS server refused an update or a query, or did not answer: the reason is in <see cref="Exception.Message"/>.</summary>
public sealed class Rfc2136UpdateException : Exception
{
    /// <summary>Creates the exception.</summary>
    public Rfc2136UpdateException(string message, string? responseCode = null, string? tsigError = null, Exception? innerException = null)
        : base(message, innerException)
    {
        ResponseCode = responseCode;
        TsigError = tsigError;
    }

    /// <summary>The server's RCODE (<c>REFUSED</c>, <c>NOTAUTH</c>, <c>SERVFAIL</c>...), or null when it did not answer.</summary>
    public string? ResponseCode { get; }

    /// <summary>The TSIG error of the answer (<c>BADSIG</c>, <c>BADKEY</c>, <c>BADTIME</c>), or null.</summary>
    public string? TsigError { get; }
}
