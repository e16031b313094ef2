namespace Sndctl.Provisioning.Core;

/// <summary>A device's register or renew call.</summary>
/// <param name="DeviceId">The device ID.</param>
/// <param name="Secret">The device secret from the <c>X-Device-Secret</c> header.</param>
/// <param name="Hostname">The hostname the device claims (renew).</param>
/// <param name="CertificateSigningRequestPem">A PEM PKCS#10 request, when the device keeps its own key.</param>
/// <param name="Addresses">The device's current LAN addresses, when it reports them (<see cref="DeviceAddresses"/> says which are accepted); they replace the stored set.</param>
public sealed record ProvisioningRequest(string DeviceId, string? Secret, string? Hostname = null, string? CertificateSigningRequestPem = null, IReadOnlyList<string?>? Addresses = null)
{
    /// <summary>What the device saw resolving its own hostname through its LAN's resolver, when it reports it.</summary>
    public DeviceNameResolution? NameResolution { get; init; }
}
