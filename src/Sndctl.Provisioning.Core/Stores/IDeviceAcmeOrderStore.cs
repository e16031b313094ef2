namespace Sndctl.Provisioning.Core;

/// <summary>The ACME front door's orders (<see cref="DeviceAcmeOrder"/>).</summary>
public interface IDeviceAcmeOrderStore
{
    /// <summary>Adds an order.</summary>
    Task AddAsync(DeviceAcmeOrder order, CancellationToken cancellationToken);

    /// <summary>An order by ID; null when there is none.</summary>
    Task<DeviceAcmeOrder?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>A device's orders that are not yet valid or invalid and have not expired at <paramref name="now"/>, oldest first.</summary>
    Task<IReadOnlyList<DeviceAcmeOrder>> ListOpenAsync(string deviceId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Writes a changed order if nobody changed it since it was read.</summary>
    /// <exception cref="ConcurrencyConflictException">It was changed or deleted meanwhile.</exception>
    Task UpdateAsync(DeviceAcmeOrder order, CancellationToken cancellationToken);

    /// <summary>Deletes the orders that expired before <paramref name="before"/>; returns how many.</summary>
    Task<int> PurgeExpiredAsync(DateTimeOffset before, CancellationToken cancellationToken);
}
