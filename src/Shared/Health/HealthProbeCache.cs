using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sndctl.Provisioning.Internal;

/// <summary>
/// Runs a health probe that calls someone else (a DNS provider's API, a CA) at most once per interval for all
/// callers together: callers while a probe runs wait for that probe (single flight), callers after it get its
/// result until it is older than <c>healthyFor</c> (Healthy) or <c>otherwiseFor</c> (anything else). An
/// anonymous flood of <c>GET /api/health</c> then cannot spend the provider's API budget (Route53 allows 5
/// requests a second per account) and stop DNS-01 for the whole fleet. The probe runs under its own timeout,
/// not a caller's: a caller that gives up does not cancel it for the others. Shared source.
/// </summary>
internal sealed class HealthProbeCache(TimeProvider time, TimeSpan healthyFor, TimeSpan otherwiseFor)
{
    /// <summary>How long one probe may take.</summary>
    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(15);

    private readonly Lock _lock = new();
    private Task<HealthCheckResult>? _running;
    private HealthCheckResult? _last;
    private long _lastAt;

    /// <summary>The cached result when it is fresh, else the running probe's, else a new probe's.</summary>
    public Task<HealthCheckResult> GetAsync(Func<CancellationToken, Task<HealthCheckResult>> probe, CancellationToken cancellationToken)
    {
        Task<HealthCheckResult> running;
        lock (_lock)
        {
            if (_last is { } last && time.GetElapsedTime(_lastAt) < (last.Status == HealthStatus.Healthy ? healthyFor : otherwiseFor))
            {
                return Task.FromResult(last);
            }

            running = _running ??= RunAsync(probe);
        }

        return running.WaitAsync(cancellationToken);
    }

    private async Task<HealthCheckResult> RunAsync(Func<CancellationToken, Task<HealthCheckResult>> probe)
    {
        // Off the caller's lock before the probe starts.
        await Task.Yield();
        HealthCheckResult result;
        using var timeout = new CancellationTokenSource(s_probeTimeout, time);
        try
        {
            result = await probe(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            result = HealthCheckResult.Degraded($"The check did not finish within {s_probeTimeout.TotalSeconds:0} s.");
        }
        catch (Exception ex)
        {
            result = HealthCheckResult.Unhealthy(ex.Message, ex);
        }

        lock (_lock)
        {
            _last = result;
            _lastAt = time.GetTimestamp();
            _running = null;
        }

        return result;
    }
}
