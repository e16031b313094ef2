using Microsoft.AspNetCore.DataProtection;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// A device replacing its factory secret (<c>POST /api/v1/secret</c>), crash-safe: the new secret is kept as
/// pending beside the old one, and the first successful call made with it promotes it (the old one stops working
/// then). A device that loses power before saving the answer keeps using the old secret and may ask again.
/// </summary>
internal sealed class DeviceSecretRotation(IDeviceStore devices, IAuditEventStore events, DeviceSecretHasher hasher, IDataProtectionProvider dataProtection, TimeProvider time)
{
    internal const string DeviceActor = "device";

    /// <summary>Makes a new pending secret for an authenticated device (replacing an earlier pending one); null when the device is gone.</summary>
    public async Task<string?> StartAsync(Device device, CancellationToken cancellationToken)
    {
        var secret = DeviceNames.NewSecret();
        var hash = await hasher.HashAsync(secret, cancellationToken).ConfigureAwait(false);
        var protectedSecret = DeviceAuthenticator.Protect(dataProtection, secret);
        for (var attempt = 1; ; attempt++)
        {
            device.PendingSecretHash = hash;
            device.PendingProtectedSecret = protectedSecret;
            try
            {
                await devices.UpdateAsync(device, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (ConcurrencyConflictException) when (attempt < 3)
            {
                // Someone wrote the device meanwhile (last seen, an address change): write onto what is there now.
                if (await devices.FindAsync(device.DeviceId, cancellationToken).ConfigureAwait(false) is not { } fresh)
                {
                    return null;
                }

                device = fresh;
            }
        }

        await AuditAsync(device.DeviceId, AuditEventTypes.SecretRequested, cancellationToken).ConfigureAwait(false);
        return secret;
    }

    /// <summary>The device authenticated with its pending secret: it becomes the device's secret. Returns the device as stored.</summary>
    public async Task<Device?> PromoteAsync(Device device, CancellationToken cancellationToken)
    {
        var pendingHash = device.PendingSecretHash ?? throw new InvalidOperationException("The device has no pending secret.");
        for (var attempt = 1; ; attempt++)
        {
            device.SecretHash = pendingHash;
            device.ProtectedSecret = device.PendingProtectedSecret;
            device.PendingSecretHash = null;
            device.PendingProtectedSecret = null;
            device.SecretOrigin = DeviceSecretOrigin.Device;
            device.SecretChangedAt = time.GetUtcNow();
            try
            {
                await devices.UpdateAsync(device, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (ConcurrencyConflictException) when (attempt < 3)
            {
                var fresh = await devices.FindAsync(device.DeviceId, cancellationToken).ConfigureAwait(false);
                if (fresh is null || fresh.SecretHash.AsSpan().SequenceEqual(pendingHash))
                {
                    return fresh; // Gone, or promoted by a concurrent call.
                }

                if (fresh.PendingSecretHash is null || !fresh.PendingSecretHash.AsSpan().SequenceEqual(pendingHash))
                {
                    return null; // An admin rotated the secret, or the device asked for another one: this secret is void.
                }

                device = fresh;
            }
        }

        await AuditAsync(device.DeviceId, AuditEventTypes.SecretRotated, cancellationToken).ConfigureAwait(false);
        return device;
    }

    private Task AuditAsync(string deviceId, string type, CancellationToken cancellationToken)
        => events.AppendAsync(new AuditEvent { Timestamp = time.GetUtcNow(), DeviceId = deviceId, Actor = DeviceActor, Type = type }, cancellationToken);
}
