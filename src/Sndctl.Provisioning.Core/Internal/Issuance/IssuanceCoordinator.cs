using System.Collections.Concurrent;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Runs issuances: at most one per device at a time in this process (single flight), and one across
/// instances through a lease in the store (renewed by a heartbeat while the issuance runs). An issuance runs
/// on its own scope and cancellation, not the request's, so a device that gave up waiting still gets its
/// certificate on the next call. Under the lease it orders the pipeline's named steps:
/// <see cref="IssuanceDecider"/> (serve, limit or issue), <see cref="IssuanceAttempt"/> (the issuer, journalled),
/// <see cref="IssuanceStorage"/> (the certificate becomes the device's) and, when one fails,
/// <see cref="IssuanceFailures"/> (what the failure means). Every entry point (the device API, the background
/// jobs, the ACME front door) comes through <see cref="IssueAsync"/>.
/// </summary>
internal sealed partial class IssuanceCoordinator : IDisposable
{
    private readonly ConcurrentDictionary<string, Task<IssuanceOutcome>> _inflight = new(StringComparer.Ordinal);
    private static readonly TimeSpan s_cleanupAfterCancel = TimeSpan.FromSeconds(10);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<DeviceProvisioningOptions> _options;
    private readonly ProvisioningMetrics _metrics;
    private readonly ILogger<IssuanceCoordinator> _logger;
    private readonly Random _random;
    private readonly TimeProvider _remoteTime;
    private readonly string _holder;
    private readonly OrphanedDnsRecords _orphans;
    private readonly IssuanceDecider _decider;
    private readonly IssuanceAttempt _attempt;
    private readonly IssuanceStorage _storage;
    private readonly IssuanceFailures _failures;

    public IssuanceCoordinator(
        IServiceScopeFactory scopes,
        TimeProvider time,
        IOptionsMonitor<DeviceProvisioningOptions> options,
        IDataProtectionProvider dataProtection,
        ProvisioningMetrics metrics,
        ILogger<IssuanceCoordinator> logger,
        [FromKeyedServices(RemoteTime.ServiceKey)] TimeProvider remoteTime,
        LeaseHolder holder,
        OrphanedDnsRecords orphans,
        Random random)
    {
        _orphans = orphans;
        _remoteTime = remoteTime;
        _holder = holder.Value;
        _random = random;
        _scopes = scopes;
        _time = time;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _decider = new IssuanceDecider(time, dataProtection.CreateProtector(ProtectionPurposes.DevicePrivateKey), metrics, logger);
        _attempt = new IssuanceAttempt(time, _holder);
        _storage = new IssuanceStorage(time, _random, logger);
        _failures = new IssuanceFailures(time, metrics, logger);
    }

    /// <summary>Joins the device's running issuance, or starts one.</summary>
    public Task<IssuanceOutcome> IssueAsync(string deviceId, string hostname, DeviceCsr? deviceCsr)
    {
        while (true)
        {
            if (_inflight.TryGetValue(deviceId, out var running))
            {
                return running;
            }

            var completion = new TaskCompletionSource<IssuanceOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inflight.TryAdd(deviceId, completion.Task))
            {
                _ = RunAsync(deviceId, hostname, deviceCsr, completion);
                return completion.Task;
            }
        }
    }

    /// <summary>
    /// Issues for a device without the device (a background job): with a server-made key, waiting at most
    /// <see cref="DeviceProvisioningOptions.IssuanceTimeout"/>. Throws what the issuance throws.
    /// </summary>
    public Task<IssuanceOutcome> IssueUnattendedAsync(Device device, CancellationToken cancellationToken)
        => IssueAsync(device.DeviceId, device.Hostname, deviceCsr: null).WaitAsync(_options.CurrentValue.IssuanceTimeout, _time, cancellationToken);

    /// <summary>
    /// Waits for the issuances under way to end. When <paramref name="cancellationToken"/> is cancelled
    /// first (the host's shutdown timeout), cancels them and waits a little for their clean-up (DNS
    /// records removed, leases released).
    /// </summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        var running = _inflight.Values.ToArray();
        if (running.Length == 0)
        {
            return;
        }

        Log.Draining(_logger, running.Length);
        var ended = Task.WhenAll(running).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await ended.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.DrainCancelled(_logger, _inflight.Count);
            await _shutdown.CancelAsync().ConfigureAwait(false);
            try
            {
                await ended.WaitAsync(s_cleanupAfterCancel, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Leases expire by themselves; a DNS-01 record whose removal was still running stays in the
                // journal, and the next instance to issue for the device (or the DNS janitor) removes it.
            }
        }
    }

    private async Task RunAsync(string deviceId, string hostname, DeviceCsr? deviceCsr, TaskCompletionSource<IssuanceOutcome> completion)
    {
        IssuanceOutcome? outcome = null;
        Exception? failure = null;
        try
        {
            outcome = await IssueCoreAsync(deviceId, hostname, deviceCsr).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        // Removed before the result is published: a caller that arrives after sees the finished flight
        // gone and starts its own, which re-reads the device under the lease and finds the stored
        // certificate (or, with a CSR for another key, issues for that key). Were it removed after, a
        // sequential caller could join a finished flight for a key it did not ask for.
        _inflight.TryRemove(new KeyValuePair<string, Task<IssuanceOutcome>>(deviceId, completion.Task));
        if (failure is null)
        {
            completion.SetResult(outcome!);
        }
        else
        {
            completion.SetException(failure);
        }
    }

    private async Task<IssuanceOutcome> IssueCoreAsync(string deviceId, string hostname, DeviceCsr? deviceCsr)
    {
        await Task.Yield();
        var options = _options.CurrentValue;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        timeout.CancelAfter(options.IssuanceTimeout);

        var serviceScope = _scopes.CreateAsyncScope();
        await using var scopeDisposal = serviceScope.ConfigureAwait(false);
        var services = serviceScope.ServiceProvider;
        var leases = services.GetRequiredService<IIssuanceLeaseStore>();
        if (!await leases.TryAcquireAsync(deviceId, _holder, options.IssuanceLeaseDuration, timeout.Token).ConfigureAwait(false))
        {
            Log.LeaseHeldElsewhere(_logger, deviceId);
            return IssuanceOutcome.HeldElsewhere;
        }

        using var activity = ProvisioningDiagnostics.ActivitySource.StartActivity("Issue certificate");
        activity?.SetTag("device.id", deviceId);
        var scope = new IssuanceScope(deviceId, hostname, deviceCsr, services, services.GetRequiredService<ICertificateIssuer>(), options, timeout.Token);
        var started = _time.GetTimestamp();

        // Started right before the try whose finally stops it: a heartbeat left beating would hold the device for ever.
        var heartbeat = new LeaseHeartbeat(_scopes, deviceId, _holder, options.IssuanceLeaseDuration, _remoteTime, timeout, _logger);
        try
        {
            // The pipeline: decide, attempt, store (step 4, the failure's meaning, below).
            switch (await _decider.DecideAsync(scope).ConfigureAwait(false))
            {
                case IssuanceDecision.Serve serve:
                    return new IssuanceOutcome(serve.Certificate, null); // the caller read the device before another issuance stored this
                case IssuanceDecision.Limit limit:
                    return limit.Outcome;
                case IssuanceDecision.Issue issue:
                    var (issued, journalled) = await _attempt.RunAsync(scope, issue).ConfigureAwait(false);
                    var outcome = await _storage.StoreAsync(scope, issue, issued, journalled).ConfigureAwait(false);
                    if (outcome.Certificate is { } record)
                    {
                        _metrics.Issued(scope.Issuer.Name, _time.GetElapsedTime(started));
                        Log.Issued(_logger, deviceId, record.SerialNumber, record.NotAfter);
                    }

                    return outcome;
                default:
                    throw new InvalidOperationException("Unknown issuance decision.");
            }
        }
        catch (Exception ex)
        {
            if (await _failures.HandleAsync(scope, ex, activity, heartbeat.Lost, _shutdown.IsCancellationRequested).ConfigureAwait(false) is { } translated)
            {
                throw translated;
            }

            throw;
        }
        finally
        {
            await heartbeat.DisposeAsync().ConfigureAwait(false);
            if (!heartbeat.Lost)
            {
                await RemoveLeftoversAsync(services, deviceId).ConfigureAwait(false);
            }

            try
            {
                await leases.ReleaseAsync(deviceId, _holder, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The lease expires by itself; a failed release only delays the next issuance.
                Log.LeaseReleaseFailed(_logger, deviceId, ex);
            }
        }
    }

    /// <summary>
    /// Removes the DNS records still journalled for the device once its issuance ended, while this
    /// instance holds its lease: those an earlier attempt left (its process died; kept until now so
    /// that a resumed challenge the CA is validating still finds its record) and any this one could not
    /// remove. What fails here stays for the janitor.
    /// </summary>
    private async Task RemoveLeftoversAsync(IServiceProvider services, string deviceId)
    {
        using var timeout = new CancellationTokenSource(s_cleanupAfterCancel, _time);
        try
        {
            await _orphans.RemoveAsync(services, deviceId, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.LeftoversFailed(_logger, deviceId, ex);
        }
    }

    public void Dispose()
    {
        _shutdown.Cancel();
        _shutdown.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Issued certificate {SerialNumber} to device {DeviceId}, valid until {NotAfter:O}.")]
        public static partial void Issued(ILogger logger, string deviceId, string serialNumber, DateTimeOffset notAfter);

        [LoggerMessage(3, LogLevel.Information, "Device {DeviceId} is being issued a certificate by another instance.")]
        public static partial void LeaseHeldElsewhere(ILogger logger, string deviceId);

        [LoggerMessage(4, LogLevel.Warning, "Releasing the issuance lease of device {DeviceId} failed; it expires by itself.")]
        public static partial void LeaseReleaseFailed(ILogger logger, string deviceId, Exception exception);

        [LoggerMessage(10, LogLevel.Warning, "Removing the DNS records left behind for device {DeviceId} failed; the janitor tries again.")]
        public static partial void LeftoversFailed(ILogger logger, string deviceId, Exception exception);

        [LoggerMessage(11, LogLevel.Information, "Stopping: waiting for {Count} issuances under way to finish.")]
        public static partial void Draining(ILogger logger, int count);

        [LoggerMessage(12, LogLevel.Warning, "Stopping: the shutdown timeout ended with {Count} issuances under way; they are cancelled and their leases handed back.")]
        public static partial void DrainCancelled(ILogger logger, int count);
    }
}
