using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Issues, every minute on one instance, for devices at the head of a CA budget's queue as slots free up,
/// so that a queued device's next call is the fast path. Only devices whose key the server makes (they
/// sent no CSR); a device that keeps its own key gets its certificate on its next call after its turn, and
/// holds its slot for a claim window after its turn; then the job passes over it to the devices behind.
/// Does nothing without a CA budget (<see cref="ICertificateAuthorityBudget"/>) or a queue store.
/// </summary>
internal sealed partial class QueuedIssuanceJob(IssuanceCoordinator coordinator, TimeProvider time, ILogger<QueuedIssuanceJob> logger) : IProvisioningJob
{
    private const int MaxPerRun = 100;

    public string Name => "queued-issuance";

    public TimeSpan Interval => TimeSpan.FromMinutes(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<ICertificateAuthorityBudget>() is not { } budget || services.GetService<IIssuanceQueueStore>() is not { } queue)
        {
            return;
        }

        var report = await budget.GetReportAsync(cancellationToken).ConfigureAwait(false);
        if (report.QueueDepth == 0)
        {
            return;
        }

        var devices = services.GetRequiredService<IDeviceStore>();
        var certificates = services.GetRequiredService<ICertificateStore>();
        foreach (var domain in report.Domains.Where(d => d.Limit > 0 && d.Used < d.Limit))
        {
            // Past the devices it cannot serve (their key is on the device): a slot one of them holds for its
            // claim window stops the run (the budget refuses the next device), one it no longer holds goes on.
            foreach (var entry in await queue.ListAsync(domain.RegisteredDomain, time.GetUtcNow(), MaxPerRun, cancellationToken).ConfigureAwait(false))
            {
                var deviceId = entry.Subject.Split('.', 2)[0];
                var device = await devices.FindAsync(deviceId, cancellationToken).ConfigureAwait(false);
                if (device is null || device.Status == DeviceStatus.Disabled || !string.Equals(device.Hostname, entry.Subject, StringComparison.OrdinalIgnoreCase))
                {
                    await queue.RemoveAsync(entry.Subject, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var current = device.CurrentCertificateId is { } id ? await certificates.FindAsync(id, cancellationToken).ConfigureAwait(false) : null;
                if (current is not null && DeviceProvisioningService.CanServe(current, deviceCsr: null, time.GetUtcNow()))
                {
                    await queue.RemoveAsync(entry.Subject, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (!entry.ServerMadeKey)
                {
                    continue; // its key is on the device: it is served on its next call (its slot waits for it, a while)
                }

                try
                {
                    var outcome = await coordinator.IssueUnattendedAsync(device, cancellationToken).ConfigureAwait(false);
                    if (outcome.Certificate is not null)
                    {
                        Log.Issued(logger, device.DeviceId);
                    }
                }
                catch (CertificateIssuanceException ex)
                {
                    // The CA refused this device (counted against its failed-issuance limit): the next ones may be served.
                    Log.NotYet(logger, device.DeviceId, ex.Message);
                }
                catch (Exception ex) when (ex is CertificateAuthorityUnavailableException or TimeoutException)
                {
                    // Its turn is not now after all (another instance took the slot, the CA is down): it keeps its place.
                    Log.NotYet(logger, device.DeviceId, ex.Message);
                    return;
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Issued the certificate of queued device {DeviceId} in the background; its next call is served at once.")]
        public static partial void Issued(ILogger logger, string deviceId);

        [LoggerMessage(2, LogLevel.Information, "Queued device {DeviceId} could not be issued in the background now: {Reason}")]
        public static partial void NotYet(ILogger logger, string deviceId, string reason);
    }
}
