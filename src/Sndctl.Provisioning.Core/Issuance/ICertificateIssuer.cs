namespace Sndctl.Provisioning.Core;

/// <summary>
/// Issues certificates for device hostnames: the ACME issuer (publicly trusted) or the private CA.
/// </summary>
public interface ICertificateIssuer
{
    /// <summary>A short, stable name recorded with every certificate (for example <c>Acme</c>).</summary>
    string Name { get; }

    /// <summary>Issues a certificate for <see cref="CertificateIssueRequest.Hostname"/> from the request's CSR.</summary>
    /// <exception cref="CertificateAuthorityUnavailableException">The CA is unreachable or refuses for now (rate limit).</exception>
    /// <exception cref="CertificateIssuanceException">The CA refused the request for good.</exception>
    Task<IssuedCertificate> IssueAsync(CertificateIssueRequest request, CancellationToken cancellationToken);

    /// <summary>Revokes a certificate this issuer issued.</summary>
    Task RevokeAsync(DeviceCertificate certificate, CancellationToken cancellationToken);
}

/// <summary>What a device needs a certificate for.</summary>
/// <param name="Hostname">The device hostname; the only name the certificate may carry.</param>
/// <param name="CertificateSigningRequest">A DER PKCS#10 request for <paramref name="Hostname"/>.</param>
/// <param name="Replaces">The certificate being renewed, if any (ACME ARI <c>replaces</c>).</param>
public sealed record CertificateIssueRequest(string Hostname, ReadOnlyMemory<byte> CertificateSigningRequest, DeviceCertificate? Replaces);

/// <summary>The issuer's answer.</summary>
/// <param name="CertificatePem">PEM: the leaf first, then the intermediates.</param>
/// <param name="RenewAfter">A renewal time suggested by the CA (ACME ARI); <see langword="null"/> to use the default window.</param>
public sealed record IssuedCertificate(string CertificatePem, DateTimeOffset? RenewAfter = null);

/// <summary>The CA cannot issue right now (unreachable, overloaded or rate limited); try again later.</summary>
public class CertificateAuthorityUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CertificateAuthorityUnavailableException(string message, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException) => RetryAfter = retryAfter;

    /// <summary>When the CA said to come back, if it said.</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>The CA refused to issue for a reason that waiting will not fix.</summary>
public class CertificateIssuanceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CertificateIssuanceException(string message, Exception? innerException = null) : base(message, innerException) { }
}
