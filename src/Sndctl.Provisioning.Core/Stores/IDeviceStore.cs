namespace Sndctl.Provisioning.Core;

/// <summary>Persists devices.</summary>
public interface IDeviceStore
{
    /// <summary>Finds a device by ID, or <see langword="null"/>.</summary>
    Task<Device?> FindAsync(string deviceId, CancellationToken cancellationToken);

    /// <summary>Adds devices atomically: all or none.</summary>
    /// <exception cref="DuplicateDeviceException">One of the IDs exists already.</exception>
    Task CreateAsync(IReadOnlyCollection<Device> devices, CancellationToken cancellationToken);

    /// <summary>Saves changes to a device read from this store.</summary>
    /// <exception cref="ConcurrencyConflictException">Someone else changed it first; read it again and retry.</exception>
    Task UpdateAsync(Device device, CancellationToken cancellationToken);

    /// <summary>
    /// Saves a device's <see cref="Device.Addresses"/>, <see cref="Device.AddressRecordsPending"/> and
    /// <see cref="Device.AddressChangesRestoredAt"/>, and changes its <see cref="Device.ConcurrencyStamp"/>, if the row is
    /// still as read (callers change nothing else on the device before this call). The write of every address change: a
    /// store may make it one small statement. The default saves the whole device (<see cref="UpdateAsync"/>).
    /// </summary>
    /// <exception cref="ConcurrencyConflictException">Someone else changed it first; read it again and retry.</exception>
    Task UpdateAddressesAsync(Device device, CancellationToken cancellationToken) => UpdateAsync(device, cancellationToken);

    /// <summary>
    /// Deletes a device with its unrevoked certificates, its lease and its ACME accounts and orders; false when it did not exist.
    /// Revoked certificates are kept (they are listed on their CA's revocation list until they expire).
    /// </summary>
    Task<bool> DeleteAsync(string deviceId, CancellationToken cancellationToken);

    /// <summary>A page of devices, newest first.</summary>
    Task<Page<Device>> ListAsync(DeviceQuery query, CancellationToken cancellationToken);

    /// <summary>How many devices match <paramref name="query"/>'s filters (its page and order aside). The default lists a page of one.</summary>
    async Task<int> CountAsync(DeviceQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return (await ListAsync(query with { Page = 1, PageSize = 1, CountTotal = true }, cancellationToken).ConfigureAwait(false)).Total;
    }

    /// <summary>How many devices are in each status.</summary>
    Task<IReadOnlyDictionary<DeviceStatus, int>> CountByStatusAsync(CancellationToken cancellationToken);

    /// <summary>Device counts per <see cref="Device.NameResolution"/> (every value, zero included).</summary>
    Task<IReadOnlyDictionary<DeviceNameResolution, int>> CountByNameResolutionAsync(CancellationToken cancellationToken);

    /// <summary>Devices whose address records are pending (<see cref="Device.AddressRecordsPending"/>), at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<Device>> ListAddressRecordsPendingAsync(int max, CancellationToken cancellationToken);
}
