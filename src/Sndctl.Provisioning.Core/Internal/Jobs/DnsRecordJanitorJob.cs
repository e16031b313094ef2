using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// The DNS janitor: every 20 s on one instance (and soon after start-up), removes the records whose
/// issuance is gone (its lease expired or was taken) and that nobody removed: the device is leased for
/// the clean-up, so it never races an issuance of that device.
/// </summary>
internal sealed partial class DnsRecordJanitorJob(
    OrphanedDnsRecords orphans,
    LeaseHolder holder,
    IOptionsMonitor<DeviceProvisioningOptions> options,
    ILogger<DnsRecordJanitorJob> logger) : IProvisioningJob
{
    private const int Batch = 100;

    public string Name => "dns-janitor";

    public TimeSpan Interval => TimeSpan.FromSeconds(20);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var journal = services.GetRequiredService<IIssuanceJournalStore>();
        var leases = services.GetRequiredService<IIssuanceLeaseStore>();
        var devices = await journal.ListDevicesWithOrphanedDnsRecordsAsync(Batch, cancellationToken).ConfigureAwait(false);

        // Its own holder name: "janitor:instance#incarnation" never takes over an issuance's lease, nor
        // is it taken over by one, but a restarted janitor takes over its own.
        var janitor = "janitor:" + holder.Value;
        var total = 0;
        foreach (var deviceId in devices)
        {
            if (!await leases.TryAcquireAsync(deviceId, janitor, options.CurrentValue.IssuanceLeaseDuration, cancellationToken).ConfigureAwait(false))
            {
                continue; // An issuance of the device is under way; it removes its device's leftovers when it starts.
            }

            try
            {
                total += await orphans.RemoveAsync(services, deviceId, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await leases.ReleaseAsync(deviceId, janitor, CancellationToken.None).ConfigureAwait(false);
            }
        }

        if (total > 0)
        {
            Log.Swept(logger, total, devices.Count);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "The DNS janitor removed {Count} records left behind by {Devices} devices' unfinished issuances.")]
        public static partial void Swept(ILogger logger, int count, int devices);
    }
}
