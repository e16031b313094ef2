using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// The <see cref="IDnsProvider"/> of the embedded server: records are rows in the database
/// (<see cref="IZoneRecordStore"/>), answered by every instance; this instance re-reads them at once after
/// each change, the others within <see cref="AuthoritativeDnsOptions.RefreshInterval"/>.
/// </summary>
internal sealed class AuthoritativeDnsProvider(IZoneRecordStore store, ZoneCache cache, TimeProvider time) : IDnsProvider
{
    public async Task<DnsTxtRecord> CreateTxtRecordAsync(string name, string value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        var owner = name.TrimEnd('.').ToLowerInvariant();
        var id = 0L;
        await cache.WriteAsync(owner, async () =>
        {
            id = await store.AddAsync(new ZoneRecord { Name = owner, Type = "TXT", Value = value, CreatedAt = time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
            return (1, 0, id);
        }, cancellationToken).ConfigureAwait(false);
        return new DnsTxtRecord(owner, value, id.ToString(CultureInfo.InvariantCulture));
    }

    public async Task DeleteTxtRecordAsync(DnsTxtRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var owner = record.Name.TrimEnd('.').ToLowerInvariant();
        await cache.WriteAsync(owner, async () =>
        {
            var removed = long.TryParse(record.ProviderId, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? await store.RemoveAsync(id, cancellationToken).ConfigureAwait(false) ? 1 : 0
                : await store.RemoveAsync(owner, "TXT", record.Value, cancellationToken).ConfigureAwait(false); // its ID was never written down: by exact name and value
            return (0, removed, 0L);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task SetAddressRecordsAsync(string name, IReadOnlyList<IPAddress> addresses, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(addresses);
        var owner = name.TrimEnd('.').ToLowerInvariant();
        var now = time.GetUtcNow();
        var records = addresses
            .Select(a => new ZoneRecord { Name = owner, Type = a.AddressFamily == AddressFamily.InterNetwork ? "A" : "AAAA", Value = a.ToString(), CreatedAt = now })
            .ToList();
        await cache.WriteAddressesAsync(owner, addresses, records, cancellationToken).ConfigureAwait(false);
    }
}
