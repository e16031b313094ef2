namespace Sndctl.Provisioning.Core;

/// <summary>What a device needs a certificate for.</summary>
/// <param name="Hostname">The device hostname; the only name the certificate may carry.</param>
/// <param name="CertificateSigningRequest">
/// A DER PKCS#10 request for <paramref name="Hostname"/> whose signature the caller checked: the
/// provisioning core passes only requests it made or verified, and an issuer need not verify it again
/// (a CA that receives it does).
/// </param>
/// <param name="Replaces">The certificate being renewed, if any (ACME ARI <c>replaces</c>).</param>
public sealed record CertificateIssueRequest(string Hostname, ReadOnlyMemory<byte> CertificateSigningRequest, DeviceCertificate? Replaces)
{
    /// <summary>
    /// Where the issuer writes down its side effects and finds an unfinished earlier attempt; the
    /// provisioning core always sets it, an application calling an issuer directly may leave it out.
    /// </summary>
    public IIssuanceJournal? Journal { get; init; }

    /// <summary>
    /// Whether the server made the key (the device sent no CSR): then the server can issue for the device
    /// without it, e.g. when a CA budget queue reaches it.
    /// </summary>
    public bool ServerMadeKey { get; init; }
}
