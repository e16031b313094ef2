using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Every ten minutes, on one instance: renews, ahead of the devices, the certificates whose renewal time has
/// come of active devices (seen within <see cref="RenewalOptions.ActiveWithin"/>) whose key the server holds,
/// so their next call is served at once and a CA outage on renewal day costs them nothing. With ACME the
/// renewal carries <c>replaces</c> (exempt from the CA's limits), so it never takes an onboarding slot.
/// </summary>
internal sealed partial class ProactiveRenewalJob(IssuanceCoordinator coordinator, TimeProvider time, IOptionsMonitor<DeviceProvisioningOptions> options, ILogger<ProactiveRenewalJob> logger) : IProvisioningJob
{
    private const int MaxPerRun = 200;

    public string Name => "renewals";

    public TimeSpan Interval => TimeSpan.FromMinutes(10);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (settings.Renewal.ActiveWithin <= TimeSpan.Zero)
        {
            return;
        }

        var now = time.GetUtcNow();
        var due = await services.GetRequiredService<ICertificateStore>().ListRenewalDueAsync(now, now - settings.Renewal.ActiveWithin, MaxPerRun, cancellationToken).ConfigureAwait(false);
        var devices = services.GetRequiredService<IDeviceStore>();
        var renewed = 0;
        foreach (var certificate in due)
        {
            if (await devices.FindAsync(certificate.DeviceId, cancellationToken).ConfigureAwait(false) is not { } device)
            {
                continue;
            }

            try
            {
                var outcome = await coordinator.IssueUnattendedAsync(device, cancellationToken).ConfigureAwait(false);
                renewed += outcome.Certificate is null ? 0 : 1;
            }
            catch (Exception ex) when (ex is CertificateAuthorityUnavailableException or CertificateIssuanceException or TimeoutException)
            {
                // The CA cannot now: the device renews on its own call, or the next run tries again.
                Log.Failed(logger, device.DeviceId, ex.Message);
                break;
            }
        }

        if (renewed > 0)
        {
            Log.Renewed(logger, renewed);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Renewed {Count} certificates ahead of their devices.")]
        public static partial void Renewed(ILogger logger, int count);

        [LoggerMessage(2, LogLevel.Warning, "Renewing the certificate of device {DeviceId} ahead of time failed; it renews on its own call: {Reason}")]
        public static partial void Failed(ILogger logger, string deviceId, string reason);
    }
}
