using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Step 4 of the issuance pipeline, when a step failed: what the failure means, said once. Waiting for the CA's
/// budget is no failure. Anything else is counted, logged, recorded as the device's <c>certificate.failed</c>
/// event with its reason (the operator's view; the device is told something generic), and a cancellation
/// becomes what caused it: the lease lost to another instance, or the issuance timeout.
/// Also keeps the count of the CA's refusals per device (<see cref="DeviceProvisioningOptions.FailedIssuanceLimit"/>).
/// </summary>
internal sealed partial class IssuanceFailures(TimeProvider time, ProvisioningMetrics metrics, ILogger logger)
{
    /// <summary>
    /// Handles <paramref name="exception"/> of an issuance; returns the exception to throw instead of it, or
    /// <see langword="null"/> to let it go on as it is.
    /// </summary>
    public async Task<Exception?> HandleAsync(IssuanceScope scope, Exception exception, Activity? activity, bool leaseLost, bool shuttingDown)
    {
        if (exception is CertificateIssuanceQueuedException queued)
        {
            Log.Queued(logger, scope.DeviceId, queued.Position, queued.EstimatedAt);
            return null;
        }

        metrics.Failed(scope.Issuer.Name);
        activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
        Log.IssuanceFailed(logger, scope.DeviceId, exception);
        var translated = exception is not OperationCanceledException ? null
            : leaseLost ? new CertificateAuthorityUnavailableException(
                "The issuance lease was lost (this instance could not renew it in time and another took it); the issuance stopped.", TimeSpan.FromSeconds(5), exception)
            : !shuttingDown ? new CertificateAuthorityUnavailableException(
                $"Issuance did not finish within {scope.Options.IssuanceTimeout.TotalSeconds:0} s.", innerException: exception)
            : null;
        await RecordAsync(scope.Services, scope.DeviceId, translated ?? exception).ConfigureAwait(false);
        return translated;
    }

    private static string RefusalsKey(string deviceId) => "issuance-refused:" + deviceId;

    /// <summary>How long until the device may try again when the CA refused it <see cref="DeviceProvisioningOptions.FailedIssuanceLimit"/> times within the window; null otherwise.</summary>
    public static async Task<TimeSpan?> RefusalsWaitAsync(IServiceProvider services, string deviceId, DeviceProvisioningOptions options, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (services.GetService<IRateLimitStore>() is not { } rateLimits)
        {
            return null;
        }

        var (used, nextAt) = await rateLimits.PeekAsync(RefusalsKey(deviceId), options.FailedIssuanceLimit, options.FailedIssuanceWindow, now, cancellationToken).ConfigureAwait(false);
        return used >= options.FailedIssuanceLimit ? nextAt - now : null;
    }

    /// <summary>Counts one refusal by the CA against the device (best effort: a failed count only lets one more attempt through).</summary>
    public static async Task CountRefusalAsync(IServiceProvider services, string deviceId, DeviceProvisioningOptions options, TimeProvider time)
    {
        try
        {
            if (services.GetService<IRateLimitStore>() is { } rateLimits)
            {
                await rateLimits.TryAcquireAsync(RefusalsKey(deviceId), options.FailedIssuanceLimit, options.FailedIssuanceWindow, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.CountFailed(services.GetRequiredService<ILogger<IssuanceFailures>>(), deviceId, ex);
        }
    }

    private async Task RecordAsync(IServiceProvider services, string deviceId, Exception exception)
    {
        try
        {
            await services.GetRequiredService<IAuditEventStore>().AppendAsync(
                new AuditEvent
                {
                    Timestamp = time.GetUtcNow(),
                    DeviceId = deviceId,
                    Actor = AuditActors.System,
                    Type = AuditEventTypes.CertificateFailed,
                    Details = exception is OperationCanceledException ? "Timed out." : exception.Message,
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.AuditFailed(logger, deviceId, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Error, "Issuing a certificate to device {DeviceId} failed.")]
        public static partial void IssuanceFailed(ILogger logger, string deviceId, Exception exception);

        [LoggerMessage(5, LogLevel.Warning, "Recording the failed issuance of device {DeviceId} failed.")]
        public static partial void AuditFailed(ILogger logger, string deviceId, Exception exception);

        [LoggerMessage(13, LogLevel.Information, "Device {DeviceId} waits for the CA's budget: place {Position} in the queue, expected at {EstimatedAt:O}.")]
        public static partial void Queued(ILogger logger, string deviceId, int position, DateTimeOffset estimatedAt);

        [LoggerMessage(15, LogLevel.Warning, "Counting the CA's refusal of device {DeviceId} failed; one more attempt may get through.")]
        public static partial void CountFailed(ILogger logger, string deviceId, Exception exception);
    }
}
