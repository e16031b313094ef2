namespace Sndctl.Provisioning.Core;

/// <summary>Persists issued certificates (the whole history of each device).</summary>
public interface ICertificateStore
{
    /// <summary>Finds a certificate by its store ID.</summary>
    Task<DeviceCertificate?> FindAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>Finds the current certificates of several devices at once (listing pages).</summary>
    Task<IReadOnlyDictionary<Guid, DeviceCertificate>> FindManyAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken);

    /// <summary>The device's certificates, newest first.</summary>
    Task<IReadOnlyList<DeviceCertificate>> ListByDeviceAsync(string deviceId, CancellationToken cancellationToken);

    /// <summary>Adds a new certificate.</summary>
    Task AddAsync(DeviceCertificate certificate, CancellationToken cancellationToken);

    /// <summary>Saves changes to a certificate (revocation).</summary>
    /// <exception cref="ConcurrencyConflictException">Someone else changed it first.</exception>
    Task UpdateAsync(DeviceCertificate certificate, CancellationToken cancellationToken);

    /// <summary>How many unrevoked certificates, current for their device, expire before <paramref name="before"/>.</summary>
    Task<int> CountCurrentExpiringAsync(DateTimeOffset before, CancellationToken cancellationToken);
}
