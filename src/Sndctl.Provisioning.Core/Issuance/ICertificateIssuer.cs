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
