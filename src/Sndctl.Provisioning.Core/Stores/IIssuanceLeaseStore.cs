namespace Sndctl.Provisioning.Core;

/// <summary>
/// Leases that let one instance at a time issue for a device, across every instance sharing a database.
/// </summary>
public interface IIssuanceLeaseStore
{
    /// <summary>
    /// Takes the lease on <paramref name="deviceId"/> for <paramref name="holder"/> for
    /// <paramref name="duration"/>, if it is free, expired or already held by <paramref name="holder"/>.
    /// Expiry is judged by the store's own clock (the database server's), never by the callers', so
    /// instances whose clocks disagree still exclude each other. Called again by its holder, it renews the
    /// lease (the heartbeat).
    /// </summary>
    /// <remarks>
    /// A holder of the form <c>instance#incarnation</c> also takes over a lease held by the same
    /// <c>instance</c> under another incarnation: that is the same instance restarted, whose previous
    /// process is gone. Holders without <c>#</c> take over nothing.
    /// </remarks>
    /// <returns><see langword="true"/> when the caller now holds the lease.</returns>
    Task<bool> TryAcquireAsync(string deviceId, string holder, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Gives the lease back if <paramref name="holder"/> holds it.</summary>
    Task ReleaseAsync(string deviceId, string holder, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes leases that expired more than <paramref name="expiredFor"/> ago by the store's clock (left by
    /// processes that died holding them); returns how many.
    /// </summary>
    Task<int> PurgeExpiredAsync(TimeSpan expiredFor, CancellationToken cancellationToken);
}
