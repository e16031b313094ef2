namespace Sndctl.Provisioning.Core;

/// <summary>
/// Checks a device's credentials for entry points other than the device API, which never see the secret itself:
/// the ACME front door's External Account Binding is a MAC made with it. The secret stays in Core.
/// </summary>
public interface IDeviceAuthenticator
{
    /// <summary>
    /// Whether <paramref name="mac"/> is HMAC-SHA256 of <paramref name="data"/> under the device's secret, whose
    /// base64url text is the key (as ACME clients read an EAB MAC key). Compared in constant time; an unknown
    /// device takes the same time as a wrong MAC.
    /// </summary>
    Task<DeviceAuthentication> VerifyHmacSha256Async(string deviceId, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> mac, CancellationToken cancellationToken);
}

/// <summary>The answer of <see cref="IDeviceAuthenticator"/>.</summary>
/// <param name="Outcome">What the check found.</param>
/// <param name="Device">The device, when the credentials are its.</param>
public sealed record DeviceAuthentication(DeviceAuthenticationOutcome Outcome, Device? Device = null)
{
    /// <summary>Whether the credentials are the device's and the device may be served.</summary>
    public bool Succeeded => Outcome == DeviceAuthenticationOutcome.Authenticated;
}

/// <summary>What <see cref="IDeviceAuthenticator"/> found.</summary>
public enum DeviceAuthenticationOutcome
{
    /// <summary>The device's credentials; the device is not disabled.</summary>
    Authenticated,

    /// <summary>Unknown device or wrong credentials (not told apart).</summary>
    Failed,

    /// <summary>The credentials are right but the device is disabled.</summary>
    Disabled,

    /// <summary>
    /// The device was made before the server kept secrets for MACs (it keeps only their hash): an admin (or the
    /// device) rotates its secret once to use the ACME front door.
    /// </summary>
    SecretNotKept,
}
