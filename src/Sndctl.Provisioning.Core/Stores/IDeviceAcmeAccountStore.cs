namespace Sndctl.Provisioning.Core;

/// <summary>The ACME front door's accounts (<see cref="DeviceAcmeAccount"/>).</summary>
public interface IDeviceAcmeAccountStore
{
    /// <summary>Adds an account; false when an account with its key exists already (one account per key).</summary>
    Task<bool> AddAsync(DeviceAcmeAccount account, CancellationToken cancellationToken);

    /// <summary>An account by ID; null when there is none.</summary>
    Task<DeviceAcmeAccount?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>The account of a key (by its RFC 7638 thumbprint); null when there is none.</summary>
    Task<DeviceAcmeAccount?> FindByKeyAsync(string keyThumbprint, CancellationToken cancellationToken);

    /// <summary>A device's accounts, oldest first.</summary>
    Task<IReadOnlyList<DeviceAcmeAccount>> ListByDeviceAsync(string deviceId, CancellationToken cancellationToken);

    /// <summary>Writes a changed account (a new key, a new status) if nobody changed it since it was read.</summary>
    /// <exception cref="ConcurrencyConflictException">It was changed or deleted meanwhile, or another account took the new key.</exception>
    Task UpdateAsync(DeviceAcmeAccount account, CancellationToken cancellationToken);

    /// <summary>Deletes an account and its orders; false when it did not exist.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);
}
