using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>Checks MACs made with a device's secret (<see cref="Device.ProtectedSecret"/>), in constant time.</summary>
internal sealed class DeviceAuthenticator(IDeviceStore devices, IDataProtectionProvider dataProtection) : IDeviceAuthenticator
{
    private static readonly byte[] s_dummyKey = new byte[32];
    private readonly IDataProtector _protector = dataProtection.CreateProtector(ProtectionPurposes.DeviceSecret);

    public async Task<DeviceAuthentication> VerifyHmacSha256Async(string deviceId, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> mac, CancellationToken cancellationToken)
    {
        var device = DeviceNames.IsValidDeviceId(deviceId) ? await devices.FindAsync(deviceId, cancellationToken).ConfigureAwait(false) : null;
        if (device is { ProtectedSecret: null })
        {
            return new DeviceAuthentication(DeviceAuthenticationOutcome.SecretNotKept);
        }

        var key = device?.ProtectedSecret is { } protectedSecret ? KeyOf(_protector.Unprotect(protectedSecret)) : s_dummyKey;
        var expected = HMACSHA256.HashData(key, data.Span);
        var matches = CryptographicOperations.FixedTimeEquals(expected, mac.Span) & device is not null;
        if (!ReferenceEquals(key, s_dummyKey))
        {
            CryptographicOperations.ZeroMemory(key);
        }

        return !matches ? new DeviceAuthentication(DeviceAuthenticationOutcome.Failed)
            : device!.Status == DeviceStatus.Disabled ? new DeviceAuthentication(DeviceAuthenticationOutcome.Disabled)
            : new DeviceAuthentication(DeviceAuthenticationOutcome.Authenticated, device);
    }

    /// <summary>The MAC key an ACME client makes of the secret: its base64url text decoded (the secret's bytes when it is not base64url).</summary>
    private static byte[] KeyOf(string secret)
        => Base64Url.IsValid(secret) ? Base64Url.DecodeFromChars(secret) : System.Text.Encoding.UTF8.GetBytes(secret);

    /// <summary>Encrypts a secret for <see cref="Device.ProtectedSecret"/>.</summary>
    internal static string Protect(IDataProtectionProvider dataProtection, string secret)
        => dataProtection.CreateProtector(ProtectionPurposes.DeviceSecret).Protect(secret);
}
