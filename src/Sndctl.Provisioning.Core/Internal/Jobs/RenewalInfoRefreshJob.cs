using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Daily, on one instance: asks the CA when it suggests renewing each current certificate that is not yet due
/// (ACME Renewal Information, when the issuer offers it: <see cref="IRenewalInfoSource"/>), and brings the renewal
/// time forward when the CA moved it earlier, e.g. before a mass revocation. The device is then renewed at its
/// next call, or ahead of it by the <c>renewals</c> job. A later suggestion is not taken: devices keep renewing on time.
/// Soonest-ending first, in pages read through an index, at most <see cref="MaxPerRun"/> a run: a larger fleet is
/// gone through over several runs, each resuming where the last one stopped.
/// </summary>
internal sealed partial class RenewalInfoRefreshJob(TimeProvider time, ILogger<RenewalInfoRefreshJob> logger) : IProvisioningJob
{
    private const int Page = 500;
    private const int MaxPerRun = 20_000;

    private (DateTimeOffset NotAfter, string DeviceId)? _resumeAfter;

    public string Name => "ari-refresh";

    public TimeSpan Interval => TimeSpan.FromDays(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetRequiredService<ICertificateIssuer>() is not IRenewalInfoSource source)
        {
            return;
        }

        var issuer = services.GetRequiredService<ICertificateIssuer>().Name;
        var certificates = services.GetRequiredService<ICertificateStore>();
        var now = time.GetUtcNow();
        var moved = 0;
        var after = _resumeAfter;
        for (var read = 0; read < MaxPerRun; read += Page)
        {
            var batch = await certificates.ListCurrentNotDueAsync(issuer, now, after, Page, cancellationToken).ConfigureAwait(false);
            foreach (var certificate in batch)
            {
                if (await source.GetRenewalTimeAsync(certificate, cancellationToken).ConfigureAwait(false) is { } suggested && suggested < certificate.RenewAfter)
                {
                    await certificates.SetRenewAfterAsync(certificate.Id, suggested, cancellationToken).ConfigureAwait(false);
                    Log.Moved(logger, certificate.DeviceId, certificate.SerialNumber, certificate.RenewAfter, suggested);
                    moved++;
                }

                after = (certificate.NotAfter, certificate.DeviceId);
            }

            if (batch.Count < Page)
            {
                after = null; // the whole fleet: the next run starts over
                break;
            }
        }

        _resumeAfter = after;
        if (moved > 0)
        {
            Log.Summary(logger, moved);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The CA moved the renewal of device {DeviceId}'s certificate {SerialNumber} earlier, from {Before:O} to {After:O}.")]
        public static partial void Moved(ILogger logger, string deviceId, string serialNumber, DateTimeOffset before, DateTimeOffset after);

        [LoggerMessage(2, LogLevel.Information, "Brought {Count} renewals forward as the CA suggested.")]
        public static partial void Summary(ILogger logger, int count);
    }
}
