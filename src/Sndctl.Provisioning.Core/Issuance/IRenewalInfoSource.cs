namespace Sndctl.Provisioning.Core;

/// <summary>
/// An issuer whose CA suggests when to renew (ACME Renewal Information, RFC 9773). The <c>ari-refresh</c> job asks
/// it daily about current certificates, so a CA that moves a window earlier (before a mass revocation) is
/// honoured without waiting for the device.
/// </summary>
public interface IRenewalInfoSource
{
    /// <summary>When the CA suggests renewing <paramref name="certificate"/> now, or <see langword="null"/> when it has no suggestion (or cannot be asked).</summary>
    Task<DateTimeOffset?> GetRenewalTimeAsync(DeviceCertificate certificate, CancellationToken cancellationToken);
}
