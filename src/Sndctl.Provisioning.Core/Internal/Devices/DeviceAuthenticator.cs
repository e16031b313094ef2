using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>Checks MACs made with a device's secret (<see cref="Device.ProtectedSecret"/>), in constant time.</summary>
internal sealed class DeviceAuthenticator(IDeviceStore devices, IDataProtectionProvider dataProtection, DeviceSecretRotation secretRotation) : IDeviceAuthenticator
{
    private static readonly byte[] s_dummyKey = new byte[32];
    private readonly IDataProtector _protector = dataProtection.CreateProtector(ProtectionPurposes.DeviceSecret);

    public async Task<DeviceAuthentication> VerifyHmacSha256Async(string deviceId, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> mac, CancellationToken cancellationToken)
    {
        var device = DeviceNames.IsValidDeviceId(deviceId) ? await devices.FindAsync(deviceId, cancellationToken).ConfigureAwait(false) : null;
        if (device is { ProtectedSecret: null, PendingProtectedSecret: null })
        {
            return new DeviceAuthentication(DeviceAuthenticationOutcome.SecretNotKept);
        }

        // The device's secret, or the one it asked for and has not used yet (which this use makes its secret).
        var current = Matches(device?.ProtectedSecret, data.Span, mac.Span) & device is not null;
        var pending = Matches(device?.PendingProtectedSecret, data.Span, mac.Span) & device?.PendingProtectedSecret is not null;
        if (!current && !pending)
        {
            return new DeviceAuthentication(DeviceAuthenticationOutcome.Failed);
        }

        if (device!.Status == DeviceStatus.Disabled)
        {
            return new DeviceAuthentication(DeviceAuthenticationOutcome.Disabled);
        }

        var authenticated = current ? device : await secretRotation.PromoteAsync(device, cancellationToken).ConfigureAwait(false);
        return authenticated is null
            ? new DeviceAuthentication(DeviceAuthenticationOutcome.Failed)
            : new DeviceAuthentication(DeviceAuthenticationOutcome.Authenticated, authenticated);
    }

    /// <summary>Whether <paramref name="mac"/> is the HMAC-SHA256 of <paramref name="data"/> under the secret (a dummy key when there is none), in constant time.</summary>
    private bool Matches(string? protectedSecret, ReadOnlySpan<byte> data, ReadOnlySpan<byte> mac)
    {
        var key = protectedSecret is null ? s_dummyKey : KeyOf(_protector.Unprotect(protectedSecret));
        var matches = CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(key, data), mac);
        if (!ReferenceEquals(key, s_dummyKey))
        {
            CryptographicOperations.ZeroMemory(key);
        }

        return matches && protectedSecret is not null;
    }

    /// <summary>The MAC key an ACME client makes of the secret: its base64url text decoded (the secret's bytes when it is not base64url).</summary>
    private static byte[] KeyOf(string secret)
        => Base64Url.IsValid(secret) ? Base64Url.DecodeFromChars(secret) : System.Text.Encoding.UTF8.GetBytes(secret);

    /// <summary>Encrypts a secret for <see cref="Device.ProtectedSecret"/>.</summary>
    internal static string Protect(IDataProtectionProvider dataProtection, string secret)
        => dataProtection.CreateProtector(ProtectionPurposes.DeviceSecret).Protect(secret);
}
