using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>
/// Forgets used nonces that expired (their age refuses them anyway) and orders past their expiry, hourly, on one
/// instance at a time: what clients can make the front door write does not grow the database for ever.
/// </summary>
internal sealed partial class AcmeServerRetentionJob(TimeProvider time, ILogger<AcmeServerRetentionJob> logger) : IProvisioningJob
{
    public string Name => "acme-server-retention";

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var nonces = await services.GetRequiredService<IAcmeNonceStore>().PurgeExpiredAsync(now, cancellationToken).ConfigureAwait(false);
        var orders = await services.GetRequiredService<IDeviceAcmeOrderStore>().PurgeExpiredAsync(now, cancellationToken).ConfigureAwait(false);
        if (nonces + orders > 0)
        {
            Log.Purged(logger, nonces, orders);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "ACME front door: forgot {Nonces} expired nonces and {Orders} expired orders.")]
        public static partial void Purged(ILogger logger, int nonces, int orders);
    }
}
