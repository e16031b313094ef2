using Microsoft.Extensions.Logging;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Cloudflare.Internal;

namespace Sndctl.Provisioning.Dns.Cloudflare;

/// <summary>
/// Places DNS-01 TXT records in a Cloudflare zone: one record per challenge (several challenges at
/// one name each get their own), deleted by its ID (or, without one, by its exact name and value), so
/// other values at the name are left alone. Address records: one A/AAAA record per address, DNS only
/// (<c>proxied: false</c>), TTL 60; publishing a set creates what is missing, then deletes what is stale.
/// </summary>
internal sealed partial class CloudflareDnsProvider(CloudflareApi api, ILogger<CloudflareDnsProvider> logger) : IDnsProvider
{
    public async Task<DnsTxtRecord> CreateTxtRecordAsync(string name, string value, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return await InZoneAsync(name, async zoneId =>
        {
            var recordId = await api.CreateTxtAsync(zoneId, name.TrimEnd('.'), value, cancellationToken).ConfigureAwait(false);
            Log.Created(logger, name, zoneId, recordId);
            return new DnsTxtRecord(name, value, zoneId + "/" + recordId);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteTxtRecordAsync(DnsTxtRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.ProviderId?.Split('/') is [var zoneId, var recordId])
        {
            await api.DeleteAsync(zoneId, recordId, cancellationToken).ConfigureAwait(false);
            Log.Deleted(logger, record.Name, zoneId, recordId);
            return;
        }

        // No handle (the process that created it died before it was recorded): the records with this
        // exact name and value are the ones it made; other values at the name stay.
        var zone = await api.FindZoneIdAsync(record.Name, cancellationToken).ConfigureAwait(false);
        var name = record.Name.TrimEnd('.');
        var found = new List<string>();
        await foreach (var id in api.FindTxtAsync(zone, name, record.Value, cancellationToken).ConfigureAwait(false))
        {
            found.Add(id);
        }

        foreach (var id in found)
        {
            await api.DeleteAsync(zone, id, cancellationToken).ConfigureAwait(false);
            Log.Deleted(logger, record.Name, zone, id);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> in the zone of <paramref name="name"/>; when Cloudflare says that zone is unknown
    /// (404: deleted, or added again with a new ID), the zones are listed again and the action runs once more.
    /// </summary>
    private async Task<T> InZoneAsync<T>(string name, Func<string, Task<T>> action, CancellationToken cancellationToken)
    {
        var zoneId = await api.FindZoneIdAsync(name, cancellationToken).ConfigureAwait(false);
        try
        {
            return await action(zoneId).ConfigureAwait(false);
        }
        catch (CloudflareApiException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound && ex.Errors.Any(e => e.Code == ZoneUnknown))
        {
            api.ForgetZones();
            var again = await api.FindZoneIdAsync(name, cancellationToken).ConfigureAwait(false);
            if (again == zoneId)
            {
                throw;
            }

            return await action(again).ConfigureAwait(false);
        }
    }

    /// <summary>Cloudflare's "Could not route to /zones/ID": no zone with that ID.</summary>
    private const int ZoneUnknown = 7003;

    /// <summary>The TTL of address records: short, so a device's new LAN address is seen within a minute.</summary>
    public const int AddressTtl = 60;

    public async Task SetAddressRecordsAsync(string name, IReadOnlyList<System.Net.IPAddress> addresses, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(addresses);
        var owner = name.TrimEnd('.');
        await InZoneAsync(name, async zoneId =>
        {
            foreach (var type in (string[])["A", "AAAA"])
            {
                var family = type == "A" ? System.Net.Sockets.AddressFamily.InterNetwork : System.Net.Sockets.AddressFamily.InterNetworkV6;
                var wanted = addresses.Where(a => a.AddressFamily == family).ToList();
                var existing = await api.ListAddressRecordsAsync(zoneId, type, owner, cancellationToken).ConfigureAwait(false);

                // Add first, then remove: the name never resolves to nothing while one set replaces another.
                foreach (var address in wanted.Where(a => !existing.Any(e => SameAddress(e.Content, a))))
                {
                    await api.CreateAddressAsync(zoneId, type, owner, address.ToString(), AddressTtl, cancellationToken).ConfigureAwait(false);
                }

                foreach (var (id, _) in existing.Where(e => !wanted.Any(a => SameAddress(e.Content, a))))
                {
                    await api.DeleteAsync(zoneId, id, cancellationToken).ConfigureAwait(false);
                }
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);

        Log.AddressesSet(logger, owner, addresses.Count);
    }

    private static bool SameAddress(string content, System.Net.IPAddress address)
        => System.Net.IPAddress.TryParse(content, out var parsed) && parsed.Equals(address);

    private static partial class Log
    {
        [LoggerMessage(3, LogLevel.Debug, "Set the address records of {Name} in Cloudflare to {Count} addresses.")]
        public static partial void AddressesSet(ILogger logger, string name, int count);

        [LoggerMessage(1, LogLevel.Debug, "Created TXT record {Name} in Cloudflare zone {ZoneId} (record {RecordId}).")]
        public static partial void Created(ILogger logger, string name, string zoneId, string recordId);

        [LoggerMessage(2, LogLevel.Debug, "Deleted TXT record {Name} from Cloudflare zone {ZoneId} (record {RecordId}).")]
        public static partial void Deleted(ILogger logger, string name, string zoneId, string recordId);
    }
}
