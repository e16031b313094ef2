using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Removes the DNS records a device's earlier issuances left in the zone (the process died, or its
/// clean-up failed), through the DNS provider, and says so (an audit event per record and a metric).
/// The caller holds the device's issuance lease, so no issuance of the device is using them.
/// </summary>
internal sealed partial class OrphanedDnsRecords(TimeProvider time, ProvisioningMetrics metrics, ILogger<OrphanedDnsRecords> logger)
{
    /// <summary>Removes every journalled record of <paramref name="deviceId"/>; returns how many are gone.</summary>
    public async Task<int> RemoveAsync(IServiceProvider services, string deviceId, CancellationToken cancellationToken)
    {
        if (services.GetService<IDnsProvider>() is not { } dns)
        {
            return 0; // Nothing creates DNS records here (the private CA), so there is nothing to remove.
        }

        var journal = services.GetRequiredService<IIssuanceJournalStore>();
        var entries = await journal.ListDnsRecordsAsync(deviceId, cancellationToken).ConfigureAwait(false);
        if (entries.Count == 0)
        {
            return 0;
        }

        var audit = services.GetRequiredService<IAuditEventStore>();
        var removed = 0;
        foreach (var entry in entries)
        {
            try
            {
                await dns.DeleteTxtRecordAsync(new DnsTxtRecord(entry.Name, entry.Value, entry.ProviderId), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Kept in the journal: the next pass tries again.
                Log.RemovalFailed(logger, entry.Name, deviceId, ex);
                continue;
            }

            await journal.RemoveDnsRecordAsync(entry.Id, cancellationToken).ConfigureAwait(false);
            await audit.AppendAsync(
                new AuditEvent
                {
                    Timestamp = time.GetUtcNow(),
                    DeviceId = deviceId,
                    Actor = AuditActors.System,
                    Type = AuditEventTypes.DnsRecordRemoved,
                    Details = entry.ProviderId is null
                        ? $"Removed TXT {entry.Name}, if it was created, left behind by an issuance that did not finish (holder {entry.Holder}, begun {entry.CreatedAt:O}; it died before the provider answered)."
                        : $"Removed TXT {entry.Name} left behind by an issuance that did not finish (holder {entry.Holder}, created {entry.CreatedAt:O}).",
                },
                cancellationToken).ConfigureAwait(false);
            Log.Removed(logger, entry.Name, deviceId, entry.Holder);
            removed++;
        }

        metrics.OrphansRemoved(removed);
        return removed;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Removed the DNS record {Name} that an unfinished issuance of device {DeviceId} left behind (holder {Holder}).")]
        public static partial void Removed(ILogger logger, string name, string deviceId, string holder);

        [LoggerMessage(2, LogLevel.Warning, "Removing the DNS record {Name} left behind by device {DeviceId}'s issuance failed; tried again later.")]
        public static partial void RemovalFailed(ILogger logger, string name, string deviceId, Exception exception);

    }
}
