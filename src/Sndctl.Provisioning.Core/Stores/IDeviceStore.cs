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
    /// Deletes a device with its unrevoked certificates and its lease; false when it did not exist.
    /// Revoked certificates are kept (they are listed on their CA's revocation list until they expire).
    /// </summary>
    Task<bool> DeleteAsync(string deviceId, CancellationToken cancellationToken);

    /// <summary>A page of devices, newest first.</summary>
    Task<Page<Device>> ListAsync(DeviceQuery query, CancellationToken cancellationToken);

    /// <summary>How many devices are in each status.</summary>
    Task<IReadOnlyDictionary<DeviceStatus, int>> CountByStatusAsync(CancellationToken cancellationToken);
}

/// <summary>A device listing query.</summary>
/// <param name="Status">Only this status, if given.</param>
/// <param name="Search">A substring of the device ID or hostname, if given.</param>
/// <param name="Page">1-based page number.</param>
/// <param name="PageSize">Items per page.</param>
/// <param name="Sort">What the listing is ordered by.</param>
/// <param name="Descending">Largest (newest) first.</param>
public sealed record DeviceQuery(DeviceStatus? Status = null, string? Search = null, int Page = 1, int PageSize = 50, DeviceSort Sort = DeviceSort.Created, bool Descending = true);

/// <summary>What a device listing is ordered by (ties by device ID).</summary>
public enum DeviceSort
{
    /// <summary>When the device was created (default, newest first).</summary>
    Created = 0,

    /// <summary>The device ID.</summary>
    DeviceId = 1,

    /// <summary>Status, by name: active, disabled, pending.</summary>
    Status = 2,

    /// <summary>When the device last called.</summary>
    LastSeen = 3,

    /// <summary>The end of the current certificate (devices without one last).</summary>
    Expiry = 4,
}

/// <summary>One page of a listing.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int PageNumber, int PageSize);

/// <summary>A device with that ID exists already.</summary>
public sealed class DuplicateDeviceException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>An optimistic concurrency check failed: the row changed since it was read.</summary>
public sealed class ConcurrencyConflictException(string message, Exception? innerException = null) : Exception(message, innerException);
