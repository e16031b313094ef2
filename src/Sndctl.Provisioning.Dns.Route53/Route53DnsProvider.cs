using Microsoft.Extensions.Logging;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Route53.Internal;

namespace Sndctl.Provisioning.Dns.Route53;

/// <summary>
/// Places DNS-01 TXT values in a Route53 hosted zone. Route53 keeps one record set per name, so a
/// value is added to (and later removed from) that set, never replacing it: concurrent challenges at
/// one name, from this instance or another, keep each other's values. Answers once the change is
/// <c>INSYNC</c>. Address records: one change batch that UPSERTs the A and AAAA sets (TTL 60), deleting a
/// family's set when the device has no address of it; not waited for (a device's address is not urgent).
/// </summary>
internal sealed partial class Route53DnsProvider(Route53Api api, Route53NameLocks locks, ILogger<Route53DnsProvider> logger) : IDnsProvider
{
    public async Task<DnsTxtRecord> CreateTxtRecordAsync(string name, string value, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var zoneId = await api.FindHostedZoneIdAsync(name, cancellationToken).ConfigureAwait(false);
        string? changeId;
        using (await locks.AcquireAsync(name, cancellationToken).ConfigureAwait(false))
        {
            changeId = await api.AddTxtValueAsync(zoneId, name, value, cancellationToken).ConfigureAwait(false);
        }

        if (changeId is not null)
        {
            await api.WaitForSyncAsync(changeId, cancellationToken).ConfigureAwait(false);
        }

        Log.Created(logger, name, zoneId, changeId ?? "none, value present");
        return new DnsTxtRecord(name, value, zoneId);
    }

    public async Task DeleteTxtRecordAsync(DnsTxtRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var zoneId = record.ProviderId ?? await api.FindHostedZoneIdAsync(record.Name, cancellationToken).ConfigureAwait(false);
        using (await locks.AcquireAsync(record.Name, cancellationToken).ConfigureAwait(false))
        {
            var changeId = await api.RemoveTxtValueAsync(zoneId, record.Name, record.Value, cancellationToken).ConfigureAwait(false);
            Log.Deleted(logger, record.Name, zoneId, changeId ?? "none, value gone");
        }
    }

    /// <summary>The TTL of address records: short, so a device's new LAN address is seen within a minute.</summary>
    public const int AddressTtl = 60;

    public async Task SetAddressRecordsAsync(string name, IReadOnlyList<System.Net.IPAddress> addresses, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(addresses);
        var zoneId = await api.FindHostedZoneIdAsync(name, cancellationToken).ConfigureAwait(false);
        using (await locks.AcquireAsync(name, cancellationToken).ConfigureAwait(false))
        {
            var changeId = await api.SetAddressesAsync(zoneId, name, addresses, AddressTtl, cancellationToken).ConfigureAwait(false);
            Log.AddressesSet(logger, name, zoneId, addresses.Count, changeId ?? "none, nothing to remove");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(3, LogLevel.Debug, "Set the address records of {Name} in Route53 hosted zone {ZoneId} to {Count} addresses (change {ChangeId}).")]
        public static partial void AddressesSet(ILogger logger, string name, string zoneId, int count, string changeId);

        [LoggerMessage(1, LogLevel.Debug, "Added a TXT value at {Name} in Route53 hosted zone {ZoneId} (change {ChangeId}, in sync).")]
        public static partial void Created(ILogger logger, string name, string zoneId, string changeId);

        [LoggerMessage(2, LogLevel.Debug, "Removed a TXT value at {Name} from Route53 hosted zone {ZoneId} (change {ChangeId}).")]
        public static partial void Deleted(ILogger logger, string name, string zoneId, string changeId);
    }
}
