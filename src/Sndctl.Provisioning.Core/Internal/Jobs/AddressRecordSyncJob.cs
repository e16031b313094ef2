using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>Publishes, every 30 seconds on one instance, the address records of devices whose publication failed or did not finish.</summary>
internal sealed partial class AddressRecordSyncJob(ILogger<AddressRecordSyncJob> logger) : IProvisioningJob
{
    private const int Batch = 200;

    public string Name => "dns-addresses";

    public TimeSpan Interval => TimeSpan.FromSeconds(30);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<IDnsProvider>() is null)
        {
            return;
        }

        var publisher = services.GetRequiredService<DeviceAddressPublisher>();
        var pending = await services.GetRequiredService<IDeviceStore>().ListAddressRecordsPendingAsync(Batch, cancellationToken).ConfigureAwait(false);
        var published = 0;
        foreach (var device in pending)
        {
            if (await publisher.PublishAsync(device, cancellationToken).ConfigureAwait(false))
            {
                published++;
            }
        }

        if (pending.Count > 0)
        {
            Log.Synced(logger, published, pending.Count);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Published the address records of {Published} of {Pending} devices whose publication was pending.")]
        public static partial void Synced(ILogger logger, int published, int pending);
    }
}
