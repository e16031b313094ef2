using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Keeps a device's A/AAAA records in the DNS provider in step with the device row. A device's new set is published
/// first and the row then written once, with <see cref="Device.AddressRecordsPending"/> set only when the
/// publication failed (<see cref="AddressRecordSyncJob"/> then publishes it again), so a change costs one row write
/// (docs/benchmarks.md, scale). A crash between the two leaves the provider ahead of the row until the device's next
/// report writes it (a device's first set, published just before a crash, stays published if the device is then
/// disabled before it reports again); a device disabled or changed meanwhile is found by the row write's
/// concurrency check, and the provider gets what the row then says.
/// Status changes (disable, enable) mark the row pending and publish after it. Without a DNS provider addresses are
/// stored and shown, not published.
/// </summary>
internal sealed partial class DeviceAddressPublisher(
    IDeviceStore devices,
    IServiceProvider services,
    TimeProvider time,
    IOptionsMonitor<DeviceProvisioningOptions> options,
    ProvisioningMetrics metrics,
    ILogger<DeviceAddressPublisher> logger)
{
    private static readonly TimeSpan ChangeWindow = TimeSpan.FromHours(1);

    private IDnsProvider? Dns => services.GetService<IDnsProvider>();

    /// <summary>
    /// Stores a new address set for an authenticated device and publishes it. Sending the set the device
    /// already has changes nothing and costs nothing; a change beyond <see cref="AddressOptions.ChangesPerHour"/>
    /// is refused with the time to wait. The allowance is kept on the row (<see cref="Device.AddressChangesRestoredAt"/>)
    /// and taken by the same write as the new set.
    /// </summary>
    /// <returns>The device as stored (<see langword="null"/> when it was deleted meanwhile), and the wait when the change was refused.</returns>
    public async Task<(Device? Device, TimeSpan? RetryAfter)> ChangeAsync(Device device, IReadOnlyList<IPAddress> addresses, CancellationToken cancellationToken)
    {
        if (DeviceAddresses.SameSet(device.Addresses, addresses))
        {
            return (device, null);
        }

        var now = time.GetUtcNow();
        if (TakeChange(device, now) is { } wait)
        {
            return (device, wait);
        }

        var published = await TryPublishAsync(device.Hostname, addresses, cancellationToken).ConfigureAwait(false);
        TimeSpan? refused = null;
        for (var attempt = 1; ; attempt++)
        {
            device.Addresses = addresses;
            device.AddressRecordsPending = Dns is not null && !published;
            try
            {
                await devices.UpdateAddressesAsync(device, cancellationToken).ConfigureAwait(false);
                return (device, refused);
            }
            catch (ConcurrencyConflictException) when (attempt < 5)
            {
                if (await devices.FindAsync(device.DeviceId, cancellationToken).ConfigureAwait(false) is not { } fresh)
                {
                    return (null, null); // deleted meanwhile (its records were removed before the row)
                }

                // Changed meanwhile (disabled, another report): the changes written meanwhile count against this one, and
                // a refused change keeps the row's set. The provider gets what this row write will say (nothing while
                // disabled), so that the last row written and the provider agree.
                device = fresh;
                if (refused is null && !DeviceAddresses.SameSet(fresh.Addresses, addresses))
                {
                    refused = TakeChange(fresh, now);
                }

                if (refused is not null)
                {
                    addresses = fresh.Addresses;
                }

                published = await TryPublishAsync(fresh.Hostname, fresh.Status == DeviceStatus.Disabled ? [] : addresses, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Takes one change from <paramref name="device"/>'s hourly allowance (a generic cell-rate limit on
    /// <see cref="Device.AddressChangesRestoredAt"/>), or says how long to wait; the caller writes the row.
    /// </summary>
    private TimeSpan? TakeChange(Device device, DateTimeOffset now)
    {
        var interval = ChangeWindow / Math.Max(1, options.CurrentValue.Addresses.ChangesPerHour);
        var restored = (device.AddressChangesRestoredAt is { } at && at > now ? at : now) + interval;
        if (restored - now > ChangeWindow)
        {
            return restored - ChangeWindow - now;
        }

        device.AddressChangesRestoredAt = restored;
        return null;
    }

    /// <summary>Sets the records of <paramref name="hostname"/>; <see langword="false"/> when there is no provider or it failed (logged and counted).</summary>
    private async Task<bool> TryPublishAsync(string hostname, IReadOnlyList<IPAddress> set, CancellationToken cancellationToken)
    {
        if (Dns is not { } dns)
        {
            return false;
        }

        try
        {
            await dns.SetAddressRecordsAsync(hostname, set, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            metrics.AddressPublication(published: false);
            Log.PublicationFailed(logger, hostname, ex);
            return false;
        }

        metrics.AddressPublication(published: true);
        return true;
    }

    /// <summary>
    /// Publishes a device whose records are pending: its addresses, or none while it is disabled. Best effort:
    /// a failure is logged and counted, and the job tries again.
    /// </summary>
    /// <returns><see langword="true"/> when the provider holds the device's set now.</returns>
    public async Task<bool> PublishAsync(Device device, CancellationToken cancellationToken)
    {
        if (!device.AddressRecordsPending || Dns is null)
        {
            return true;
        }

        if (!await TryPublishAsync(device.Hostname, device.Status == DeviceStatus.Disabled ? [] : device.Addresses, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        device.AddressRecordsPending = false;
        try
        {
            await devices.UpdateAddressesAsync(device, cancellationToken).ConfigureAwait(false);
        }
        catch (ConcurrencyConflictException)
        {
            // The device changed meanwhile: the flag stays, and the job publishes what the row says now.
        }

        return true;
    }

    /// <summary>
    /// Marks a device's records for (re)publication after its status changed (disabled: removed; enabled:
    /// published again) and publishes them. Part of the same row update as the status change.
    /// </summary>
    public void MarkChanged(Device device) => device.AddressRecordsPending = device.Addresses.Count > 0 && Dns is not null;

    /// <summary>
    /// Removes a device's records before the device is deleted; a provider that cannot be reached keeps the
    /// device (503) rather than leave its hostname resolving for ever.
    /// </summary>
    public async Task RemoveBeforeDeleteAsync(Device device, CancellationToken cancellationToken)
    {
        if (Dns is not { } dns || (device.Addresses.Count == 0 && !device.AddressRecordsPending))
        {
            return;
        }

        try
        {
            await dns.SetAddressRecordsAsync(device.Hostname, [], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            metrics.AddressPublication(published: false);
            Log.PublicationFailed(logger, device.Hostname, ex);
            throw new CertificateAuthorityUnavailableException(
                $"The DNS provider could not remove the address records of {device.Hostname}; the device is kept. Try again later.",
                TimeSpan.FromSeconds(30),
                ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Publishing the address records of {Hostname} failed; the address-record job tries again.")]
        public static partial void PublicationFailed(ILogger logger, string hostname, Exception exception);
    }
}
