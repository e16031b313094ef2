namespace Sndctl.Provisioning.Core;

/// <summary>
/// Places DNS records in the zone that holds the device hostnames: TXT records for ACME DNS-01, and the
/// A/AAAA records that make a device's hostname resolve to its LAN addresses.
/// </summary>
public interface IDnsProvider
{
    /// <summary>
    /// Adds one TXT value at <paramref name="name"/>, leaving other values at that name in place.
    /// </summary>
    /// <param name="name">Fully qualified record name, without the trailing dot.</param>
    /// <param name="value">The TXT value.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A handle to pass to <see cref="DeleteTxtRecordAsync"/>.</returns>
    Task<DnsTxtRecord> CreateTxtRecordAsync(string name, string value, CancellationToken cancellationToken);

    /// <summary>Removes exactly the value created by <see cref="CreateTxtRecordAsync"/>.</summary>
    Task DeleteTxtRecordAsync(DnsTxtRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the A and AAAA records at <paramref name="name"/> exactly <paramref name="addresses"/> (TTL 60 s),
    /// replacing whatever address records were there; an empty list removes them. Idempotent: the same call
    /// twice leaves the same records.
    /// </summary>
    /// <param name="name">Fully qualified record name, without the trailing dot.</param>
    /// <param name="addresses">The IPv4 and IPv6 addresses; empty to remove the records.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task SetAddressRecordsAsync(string name, IReadOnlyList<System.Net.IPAddress> addresses, CancellationToken cancellationToken);
}
