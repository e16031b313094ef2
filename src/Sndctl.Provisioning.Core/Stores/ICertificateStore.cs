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

    /// <summary>The certificates with serial number <paramref name="serialNumber"/> (upper-case hex, as stored): one per CA at most, in practice.</summary>
    Task<IReadOnlyList<DeviceCertificate>> FindBySerialNumberAsync(string serialNumber, CancellationToken cancellationToken);

    /// <summary>When the device's early re-issuances (<see cref="DeviceCertificate.EarlyReissue"/>) since <paramref name="since"/> were issued, oldest first.</summary>
    Task<IReadOnlyList<DateTimeOffset>> ListEarlyReissuesAsync(string deviceId, DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>
    /// Serial numbers and revocation times of the revoked certificates of <paramref name="issuer"/> that
    /// are still within their validity at <paramref name="now"/>, for that issuer's CRL (devices deleted
    /// since included: their revoked certificates are kept).
    /// </summary>
    Task<IReadOnlyList<(string SerialNumber, DateTimeOffset RevokedAt)>> ListRevokedAsync(string issuer, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>How many unrevoked certificates, current for their device, expire before <paramref name="before"/>.</summary>
    Task<int> CountCurrentExpiringAsync(DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>How many unrevoked certificates, current for their device, have their renewal time before <paramref name="before"/> (overdue ones included).</summary>
    Task<int> CountCurrentRenewalDueAsync(DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="max"/> devices' current, unrevoked certificates whose <c>NotAfter</c> is after
    /// <paramref name="after"/> and at most <paramref name="through"/>, soonest first.
    /// </summary>
    Task<IReadOnlyList<DeviceCertificate>> ListCurrentExpiringAsync(DateTimeOffset after, DateTimeOffset through, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Current certificates whose renewal time has come (<see cref="DeviceCertificate.RenewAfter"/> at or before
    /// <paramref name="now"/>, still valid, not revoked) with a key the server holds, of active devices seen since
    /// <paramref name="seenSince"/>; soonest first, at most <paramref name="max"/>.
    /// </summary>
    Task<IReadOnlyList<DeviceCertificate>> ListRenewalDueAsync(DateTimeOffset now, DateTimeOffset seenSince, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Current, unrevoked certificates of <paramref name="issuer"/> whose renewal time is after <paramref name="now"/>,
    /// soonest-ending first (then by device ID), after the position <paramref name="after"/> (a certificate's end and
    /// device ID; <see langword="null"/> from the start), at most <paramref name="max"/>: pages that cost the same at
    /// any depth of a large fleet (the device's <see cref="Device.CurrentCertificateNotAfter"/> index).
    /// </summary>
    Task<IReadOnlyList<DeviceCertificate>> ListCurrentNotDueAsync(string issuer, DateTimeOffset now, (DateTimeOffset NotAfter, string DeviceId)? after, int max, CancellationToken cancellationToken);

    /// <summary>Moves a certificate's renewal time (the CA suggested another).</summary>
    Task SetRenewAfterAsync(Guid id, DateTimeOffset renewAfter, CancellationToken cancellationToken);
}
