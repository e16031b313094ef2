using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// The expiry sweep, hourly on one instance: a device whose current certificate comes within
/// <see cref="Warning"/> of its end without a renewal gets an audit event
/// (<see cref="AuditEventTypes.CertificateExpiring"/>) and the metric
/// <c>sndctl.provisioning.certificates.expiry_warnings</c> counts it, exactly once per certificate: each
/// run covers the certificates whose warning time fell after the previous run's (kept in the issuer
/// state, shared by the instances) and up to now.
/// </summary>
internal sealed partial class ExpirySweepJob(TimeProvider time, ProvisioningMetrics metrics, ILogger<ExpirySweepJob> logger) : IProvisioningJob
{
    public const string StateKey = "jobs:expiry-sweep:through";
    public static readonly TimeSpan Warning = TimeSpan.FromDays(7);
    private const int Batch = 10_000;

    public string Name => "expiry-sweep";

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var state = services.GetRequiredService<IIssuerStateStore>();
        var certificates = services.GetRequiredService<ICertificateStore>();
        var audit = services.GetRequiredService<IAuditEventStore>();
        var now = time.GetUtcNow();

        // First run: from now on (certificates already inside the window are the fleet gauge's business).
        var from = await state.GetAsync(StateKey, cancellationToken).ConfigureAwait(false) is { } text
            && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var through)
            ? through
            : now;
        var expiring = await certificates.ListCurrentExpiringAsync(from + Warning, now + Warning, Batch, cancellationToken).ConfigureAwait(false);
        foreach (var certificate in expiring)
        {
            await audit.AppendAsync(
                new AuditEvent
                {
                    Timestamp = now,
                    DeviceId = certificate.DeviceId,
                    Actor = AuditActors.System,
                    Type = AuditEventTypes.CertificateExpiring,
                    Details = $"{certificate.Issuer} serial {certificate.SerialNumber} expires {certificate.NotAfter:O} and the device has not renewed it.",
                },
                cancellationToken).ConfigureAwait(false);
            metrics.ExpiryWarning();
        }

        if (expiring.Count == Batch)
        {
            // More in one hour than one run writes events for: the gauge still counts them all.
            Log.Truncated(logger, Batch);
        }

        await state.SetAsync(StateKey, now.ToString("O", System.Globalization.CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        if (expiring.Count > 0)
        {
            Log.Warned(logger, expiring.Count);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Count} devices' certificates expire within 7 days and have not been renewed (audit events certificate.expiring).")]
        public static partial void Warned(ILogger logger, int count);

        [LoggerMessage(2, LogLevel.Warning, "Over {Count} certificates reach the 7-day mark within one hour; events were written for the first {Count} (the sndctl.provisioning.certificates.expiring gauge counts all).")]
        public static partial void Truncated(ILogger logger, int count);
    }
}
