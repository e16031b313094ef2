using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Runs issuances: at most one per device at a time in this process (single flight), and one across
/// instances through a lease in the store. An issuance runs on its own scope and cancellation, not the
/// request's, so a device that gave up waiting still gets its certificate on the next call.
/// </summary>
internal sealed partial class IssuanceCoordinator : IDisposable
{
    private readonly ConcurrentDictionary<string, Task<IssuanceOutcome>> _inflight = new(StringComparer.Ordinal);
    private static readonly TimeSpan s_cleanupAfterCancel = TimeSpan.FromSeconds(10);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<DeviceProvisioningOptions> _options;
    private readonly IDataProtector _keyProtector;
    private readonly ProvisioningMetrics _metrics;
    private readonly ILogger<IssuanceCoordinator> _logger;
    private readonly Random _random;
    private readonly TimeProvider _remoteTime;
    private readonly string _holder;
    private readonly OrphanedDnsRecords _orphans;

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
        Random? random = null)
    {
        _orphans = orphans;
        _remoteTime = remoteTime;
        _holder = holder.Value;
        _random = random ?? Random.Shared;
        _scopes = scopes;
        _time = time;
        _options = options;
        _keyProtector = dataProtection.CreateProtector(ProtectionPurposes.DevicePrivateKey);
        _metrics = metrics;
        _logger = logger;
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
        var cancellationToken = timeout.Token;

        var scope = _scopes.CreateAsyncScope();

        await using var scopeDisposal = scope.ConfigureAwait(false);
        var services = scope.ServiceProvider;
        var leases = services.GetRequiredService<IIssuanceLeaseStore>();
        if (!await leases.TryAcquireAsync(deviceId, _holder, options.IssuanceLeaseDuration, cancellationToken).ConfigureAwait(false))
        {
            Log.LeaseHeldElsewhere(_logger, deviceId);
            return IssuanceOutcome.HeldElsewhere;
        }

        using var activity = ProvisioningDiagnostics.ActivitySource.StartActivity("Issue certificate");
        activity?.SetTag("device.id", deviceId);
        var issuer = services.GetRequiredService<ICertificateIssuer>();
        var started = _time.GetTimestamp();

        // Started right before the try whose finally stops it: a heartbeat left beating would hold the device for ever.
        var heartbeat = new LeaseHeartbeat(_scopes, deviceId, _holder, options.IssuanceLeaseDuration, _remoteTime, timeout, _logger);
        try
        {
            var devices = services.GetRequiredService<IDeviceStore>();
            var certificates = services.GetRequiredService<ICertificateStore>();
            var device = await devices.FindAsync(deviceId, cancellationToken).ConfigureAwait(false)
                ?? throw new CertificateIssuanceException($"Device '{deviceId}' was deleted during issuance.");
            var current = device.CurrentCertificateId is { } currentId ? await certificates.FindAsync(currentId, cancellationToken).ConfigureAwait(false) : null;
            if (current is not null && DeviceProvisioningService.CanServe(current, deviceCsr, _time.GetUtcNow()))
            {
                // The caller read the device before another issuance stored this certificate.
                return new IssuanceOutcome(current, null);
            }

            var journalStore = services.GetRequiredService<IIssuanceJournalStore>();
            var pending = await journalStore.FindPendingAsync(deviceId, cancellationToken).ConfigureAwait(false);
            if (pending is not null && !CanResume(pending, issuer.Name, deviceCsr, current))
            {
                await journalStore.RemovePendingAsync(deviceId, cancellationToken).ConfigureAwait(false);
                pending = null;
            }

            var now = _time.GetUtcNow();
            string? privateKeyPem = null;
            var resuming = pending is not null;
            if (pending is null)
            {
                // A new key while the certificate is still good and not due: counted per device, under the
                // lease, so that concurrent calls on any instance see each other's issuances. (A resumed
                // issuance was counted when it began.)
                // Refusals by the CA count too: each cost an order there, and nothing else stops a device from
                // sending a CSR the CA refuses again and again.
                if (await FailuresLimitAsync(services, deviceId, options, now, cancellationToken).ConfigureAwait(false) is { } failuresWait)
                {
                    Log.FailuresLimited(_logger, deviceId, options.FailedIssuanceLimit);
                    return IssuanceOutcome.Limited(
                        failuresWait,
                        $"The CA refused this device's certificate {options.FailedIssuanceLimit} times within {Describe(options.FailedIssuanceWindow)}; try again after Retry-After (check the CSR the device sends).");
                }

                var early = current is not null && current.RevokedAt is null && now < current.RenewAfter && now < current.NotAfter;
                if (early)
                {
                    var since = now - options.DeviceIssuanceWindow;
                    var recent = await certificates.ListEarlyReissuesAsync(deviceId, since, cancellationToken).ConfigureAwait(false);
                    if (recent.Count >= options.DeviceIssuanceLimit)
                    {
                        Log.IssuanceLimited(_logger, deviceId, recent.Count);
                        return IssuanceOutcome.Limited(
                            recent[recent.Count - options.DeviceIssuanceLimit] + options.DeviceIssuanceWindow - now,
                            $"This device asked for a new certificate while its own is valid more than {options.DeviceIssuanceLimit} times within {Describe(options.DeviceIssuanceWindow)}; its current certificate is still served for its own key. Try again after Retry-After.");
                    }
                }

                byte[] csr;
                byte[] publicKey;
                if (deviceCsr is not null)
                {
                    (csr, publicKey) = (deviceCsr.Der, deviceCsr.SubjectPublicKeyInfo);
                }
                else
                {
                    (csr, privateKeyPem, publicKey) = CertificateSigningRequests.CreateWithNewKey(hostname, options.KeyAlgorithm);
                }

                // Kept with the issuance and written to the store as soon as the issuer journals anything
                // (an ACME order, a DNS record): a crash from then on leaves the same CSR, key and CA order
                // for the next attempt to resume.
                pending = new PendingIssuance
                {
                    DeviceId = deviceId,
                    Issuer = issuer.Name,
                    CertificateSigningRequest = csr,
                    PublicKey = publicKey,
                    ProtectedPrivateKey = privateKeyPem is null ? null : _keyProtector.Protect(privateKeyPem),
                    ReplacesCertificateId = current?.Id,
                    Early = early,
                    StartedAt = now,
                };
            }
            else
            {
                privateKeyPem = pending.ProtectedPrivateKey is { } protectedKey ? _keyProtector.Unprotect(protectedKey) : null;
                _metrics.Resumed(issuer.Name);
                Log.Resuming(_logger, deviceId, pending.StartedAt, pending.IssuerReference);
            }

            IssuedCertificate issued;
            using var journal = new IssuanceJournal(journalStore, pending, persisted: resuming, _holder, _time);
            try
            {
                issued = await issuer.IssueAsync(new CertificateIssueRequest(hostname, pending.CertificateSigningRequest, current) { Journal = journal, ServerMadeKey = pending.ProtectedPrivateKey is not null }, cancellationToken).ConfigureAwait(false);
            }
            catch (CertificateIssuanceException)
            {
                // Refused for good: counted against the device, and the next attempt starts afresh.
                // (Transient failures keep the journal to resume.)
                await CountFailureAsync(services, deviceId, options).ConfigureAwait(false);
                if (journal.Persisted)
                {
                    await journalStore.RemovePendingAsync(deviceId, CancellationToken.None).ConfigureAwait(false);
                }

                throw;
            }

            var record = IssuedChain.ToDeviceCertificate(
                issued,
                deviceId,
                hostname,
                issuer.Name,
                pending.PublicKey,
                pending.ProtectedPrivateKey,
                current?.Id,
                _time.GetUtcNow(),
                _random,
                pending.Early);

            var refusal = await StoreAsync(services, journalStore, device, record, resuming, journal.Persisted ? pending : null, cancellationToken).ConfigureAwait(false);
            if (refusal is not null)
            {
                // Disabled or deleted while the CA worked: the certificate is never handed out, and
                // revoked so that nobody holding it (nobody should) is trusted.
                await RevokeUnwantedAsync(services, issuer, certificates, record, refusal.Value).ConfigureAwait(false);
                return IssuanceOutcome.Refused(refusal.Value);
            }

            _metrics.Issued(issuer.Name, _time.GetElapsedTime(started));
            Log.Issued(_logger, deviceId, record.SerialNumber, record.NotAfter);
            return new IssuanceOutcome(record, privateKeyPem);
        }
        catch (CertificateIssuanceQueuedException ex)
        {
            // Waiting for the CA's budget is not a failure: no failure count, no audit event per call.
            Log.Queued(_logger, deviceId, ex.Position, ex.EstimatedAt);
            throw;
        }
        catch (Exception ex)
        {
            _metrics.Failed(issuer.Name);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            Log.IssuanceFailed(_logger, deviceId, ex);
            Exception? translated = ex is not OperationCanceledException ? null
                : heartbeat.Lost ? new CertificateAuthorityUnavailableException(
                    "The issuance lease was lost (this instance could not renew it in time and another took it); the issuance stopped.", TimeSpan.FromSeconds(5), ex)
                : !_shutdown.IsCancellationRequested ? new CertificateAuthorityUnavailableException(
                    $"Issuance did not finish within {options.IssuanceTimeout.TotalSeconds:0} s.", innerException: ex)
                : null;

            // The reason is the operator's (the device's events); the device is told something generic.
            await RecordFailureAsync(services, deviceId, translated ?? ex).ConfigureAwait(false);
            if (translated is not null)
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

    /// <summary>
    /// Whether the device's unfinished issuance is the one this call would begin: same issuer, same key
    /// (the server's when the caller sent no CSR, else the caller's), replacing the same certificate (so it
    /// did not end already by storing the device's current certificate).
    /// </summary>
    internal static bool CanResume(PendingIssuance pending, string issuer, DeviceCsr? deviceCsr, DeviceCertificate? current)
        => pending.Issuer == issuer
            && pending.ReplacesCertificateId == current?.Id
            && (deviceCsr is null
                ? pending.ProtectedPrivateKey is not null
                : pending.ProtectedPrivateKey is null && pending.PublicKey.AsSpan().SequenceEqual(deviceCsr.SubjectPublicKeyInfo));

    /// <summary>
    /// Stores the certificate, points the device at it, records the event and ends the unfinished
    /// issuance, in one transaction (<see cref="IIssuanceJournalStore.CompleteAsync"/>); a device that
    /// changed meanwhile is read again and the write retried. The refusal when it was disabled or
    /// deleted meanwhile: the certificate is then stored (to be revoked), never attached.
    /// </summary>
    private async Task<ProvisioningOutcome?> StoreAsync(IServiceProvider services, IIssuanceJournalStore journal, Device device, DeviceCertificate record, bool resumed, PendingIssuance? stored, CancellationToken cancellationToken)
    {
        var certificates = services.GetRequiredService<ICertificateStore>();
        var devices = services.GetRequiredService<IDeviceStore>();
        var issued = new AuditEvent
        {
            Timestamp = _time.GetUtcNow(),
            DeviceId = device.DeviceId,
            Actor = AuditActors.System,
            Type = AuditEventTypes.CertificateIssued,
            Details = record.CertificateAuthority is { } ca
                ? $"{record.Issuer} serial {record.SerialNumber} from {ca}, valid until {record.NotAfter:O}"
                : $"{record.Issuer} serial {record.SerialNumber}, valid until {record.NotAfter:O}",
        };

        // A resumed issuance may have stored this very certificate before its process died: attach that one.
        if (resumed && (await certificates.ListByDeviceAsync(device.DeviceId, cancellationToken).ConfigureAwait(false))
                .FirstOrDefault(c => c.Issuer == record.Issuer && c.SerialNumber == record.SerialNumber) is { } already)
        {
            var attached = await AttachToDeviceAsync(devices, device, already, cancellationToken).ConfigureAwait(false);
            await journal.RemovePendingAsync(device.DeviceId, CancellationToken.None).ConfigureAwait(false);
            if (attached is null)
            {
                await services.GetRequiredService<IAuditEventStore>().AppendAsync(issued, cancellationToken).ConfigureAwait(false);
            }

            return attached;
        }

        for (var attempt = 1; ; attempt++)
        {
            if (device.Status == DeviceStatus.Disabled)
            {
                return await StoreRefusedAsync(ProvisioningOutcome.Disabled).ConfigureAwait(false);
            }

            PointAt(device, record);

            try
            {
                await journal.CompleteAsync(record, device, issued, stored, cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (ConcurrencyConflictException) when (attempt < 5)
            {
                // An admin (disable, rotate, delete) or last-seen update raced us: read it again and
                // apply ours on top of theirs, unless theirs ended the device.
                if (await devices.FindAsync(device.DeviceId, cancellationToken).ConfigureAwait(false) is not { } fresh)
                {
                    return await StoreRefusedAsync(ProvisioningOutcome.Unauthorized).ConfigureAwait(false);
                }

                device = fresh;
            }
        }

        async Task<ProvisioningOutcome?> StoreRefusedAsync(ProvisioningOutcome refusal)
        {
            await certificates.AddAsync(record, cancellationToken).ConfigureAwait(false);
            if (stored is not null)
            {
                await journal.RemovePendingAsync(device.DeviceId, CancellationToken.None).ConfigureAwait(false);
            }

            return refusal;
        }
    }

    /// <summary>The device's fields once it holds <paramref name="record"/>: current certificate, seen now, active.</summary>
    private void PointAt(Device device, DeviceCertificate record)
    {
        var now = _time.GetUtcNow();
        device.CurrentCertificateId = record.Id;
        device.RegisteredAt ??= now;
        device.LastSeenAt = now;
        if (device.Status == DeviceStatus.Pending)
        {
            device.Status = DeviceStatus.Active;
        }
    }

    /// <summary>Points the device at its new certificate; the refusal when it was disabled or deleted meanwhile.</summary>
    private async Task<ProvisioningOutcome?> AttachToDeviceAsync(IDeviceStore devices, Device device, DeviceCertificate record, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (device.Status == DeviceStatus.Disabled)
            {
                return ProvisioningOutcome.Disabled;
            }

            PointAt(device, record);

            try
            {
                await devices.UpdateAsync(device, cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (ConcurrencyConflictException) when (attempt < 5)
            {
                // An admin (disable, rotate, delete) or last-seen update raced us: read it again and
                // apply ours on top of theirs, unless theirs ended the device.
                var fresh = await devices.FindAsync(device.DeviceId, cancellationToken).ConfigureAwait(false);
                if (fresh is null)
                {
                    return ProvisioningOutcome.Unauthorized;
                }

                device = fresh;
            }
        }
    }

    private async Task RevokeUnwantedAsync(IServiceProvider services, ICertificateIssuer issuer, ICertificateStore certificates, DeviceCertificate record, ProvisioningOutcome refusal)
    {
        var why = refusal == ProvisioningOutcome.Disabled ? "disabled" : "deleted";
        try
        {
            await issuer.RevokeAsync(record, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.UnwantedRevocationFailed(_logger, record.DeviceId, record.SerialNumber, ex);
        }

        try
        {
            record.RevokedAt = _time.GetUtcNow();
            await certificates.UpdateAsync(record, CancellationToken.None).ConfigureAwait(false);
            await services.GetRequiredService<IAuditEventStore>().AppendAsync(
                new AuditEvent
                {
                    Timestamp = _time.GetUtcNow(),
                    DeviceId = record.DeviceId,
                    Actor = AuditActors.System,
                    Type = AuditEventTypes.CertificateRevoked,
                    Details = $"Serial {record.SerialNumber}: issued after the device was {why}, never handed out.",
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.UnwantedRevocationFailed(_logger, record.DeviceId, record.SerialNumber, ex);
        }

        Log.UnwantedRevoked(_logger, record.DeviceId, record.SerialNumber, why);
    }

    private static string Describe(TimeSpan window) => window.TotalDays >= 1 ? $"{window.TotalDays:0.#} days" : $"{window.TotalHours:0.#} hours";

    private static string FailuresKey(string deviceId) => "issuance-refused:" + deviceId;

    /// <summary>How long until the device may try again when the CA refused it <see cref="DeviceProvisioningOptions.FailedIssuanceLimit"/> times within the window; null otherwise.</summary>
    private static async Task<TimeSpan?> FailuresLimitAsync(IServiceProvider services, string deviceId, DeviceProvisioningOptions options, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (services.GetService<IRateLimitStore>() is not { } rateLimits)
        {
            return null;
        }

        var (used, nextAt) = await rateLimits.PeekAsync(FailuresKey(deviceId), options.FailedIssuanceLimit, options.FailedIssuanceWindow, now, cancellationToken).ConfigureAwait(false);
        return used >= options.FailedIssuanceLimit ? nextAt - now : null;
    }

    private async Task CountFailureAsync(IServiceProvider services, string deviceId, DeviceProvisioningOptions options)
    {
        try
        {
            if (services.GetService<IRateLimitStore>() is { } rateLimits)
            {
                await rateLimits.TryAcquireAsync(FailuresKey(deviceId), options.FailedIssuanceLimit, options.FailedIssuanceWindow, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.AuditFailed(_logger, deviceId, ex);
        }
    }

    private async Task RecordFailureAsync(IServiceProvider services, string deviceId, Exception exception)
    {
        try
        {
            await services.GetRequiredService<IAuditEventStore>().AppendAsync(
                new AuditEvent
                {
                    Timestamp = _time.GetUtcNow(),
                    DeviceId = deviceId,
                    Actor = "system",
                    Type = AuditEventTypes.CertificateFailed,
                    Details = exception is OperationCanceledException ? "Timed out." : exception.Message,
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.AuditFailed(_logger, deviceId, ex);
        }
    }

    public void Dispose()
    {
        _shutdown.Cancel();
        _shutdown.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(14, LogLevel.Warning, "The CA refused issuances of device {DeviceId} {Limit} times within the window: no new attempt until the oldest leaves it.")]
        public static partial void FailuresLimited(ILogger logger, string deviceId, int limit);

        [LoggerMessage(13, LogLevel.Information, "Device {DeviceId} waits for the CA's budget: place {Position} in the queue, expected at {EstimatedAt:O}.")]
        public static partial void Queued(ILogger logger, string deviceId, int position, DateTimeOffset estimatedAt);

        [LoggerMessage(1, LogLevel.Information, "Issued certificate {SerialNumber} to device {DeviceId}, valid until {NotAfter:O}.")]
        public static partial void Issued(ILogger logger, string deviceId, string serialNumber, DateTimeOffset notAfter);

        [LoggerMessage(2, LogLevel.Error, "Issuing a certificate to device {DeviceId} failed.")]
        public static partial void IssuanceFailed(ILogger logger, string deviceId, Exception exception);

        [LoggerMessage(3, LogLevel.Information, "Device {DeviceId} is being issued a certificate by another instance.")]
        public static partial void LeaseHeldElsewhere(ILogger logger, string deviceId);

        [LoggerMessage(4, LogLevel.Warning, "Releasing the issuance lease of device {DeviceId} failed; it expires by itself.")]
        public static partial void LeaseReleaseFailed(ILogger logger, string deviceId, Exception exception);

        [LoggerMessage(5, LogLevel.Warning, "Recording the failed issuance of device {DeviceId} failed.")]
        public static partial void AuditFailed(ILogger logger, string deviceId, Exception exception);

        [LoggerMessage(6, LogLevel.Warning, "Device {DeviceId} asked for a new certificate while its own is valid, {Count} times within the window: refused until the oldest leaves it.")]
        public static partial void IssuanceLimited(ILogger logger, string deviceId, int count);

        [LoggerMessage(7, LogLevel.Warning, "Certificate {SerialNumber} was issued to device {DeviceId} after it was {Why}: revoked, not handed out.")]
        public static partial void UnwantedRevoked(ILogger logger, string deviceId, string serialNumber, string why);

        [LoggerMessage(8, LogLevel.Error, "Revoking certificate {SerialNumber} of device {DeviceId} (issued after the device was disabled or deleted) failed; revoke it by hand.")]
        public static partial void UnwantedRevocationFailed(ILogger logger, string deviceId, string serialNumber, Exception exception);

        [LoggerMessage(9, LogLevel.Information, "Resuming the issuance of device {DeviceId} begun at {StartedAt:O} and not finished (CA reference {Reference}).")]
        public static partial void Resuming(ILogger logger, string deviceId, DateTimeOffset startedAt, string? reference);

        [LoggerMessage(10, LogLevel.Warning, "Removing the DNS records left behind for device {DeviceId} failed; the janitor tries again.")]
        public static partial void LeftoversFailed(ILogger logger, string deviceId, Exception exception);

        [LoggerMessage(11, LogLevel.Information, "Stopping: waiting for {Count} issuances under way to finish.")]
        public static partial void Draining(ILogger logger, int count);

        [LoggerMessage(12, LogLevel.Warning, "Stopping: the shutdown timeout ended with {Count} issuances under way; they are cancelled and their leases handed back.")]
        public static partial void DrainCancelled(ILogger logger, int count);
    }
}

/// <summary>A CSR sent by the device, already checked.</summary>
internal sealed record DeviceCsr(byte[] Der, byte[] SubjectPublicKeyInfo);

/// <summary>
/// The end of an issuance: a stored certificate (and the plain key when the server made it), held
/// elsewhere, refused (the device was disabled or deleted meanwhile), or limited (too many early re-issuances).
/// </summary>
internal sealed record IssuanceOutcome(DeviceCertificate? Certificate, string? PrivateKeyPem, ProvisioningOutcome? Refusal = null, TimeSpan? RetryAfter = null)
{
    public static readonly IssuanceOutcome HeldElsewhere = new(null, null);

    public static IssuanceOutcome Refused(ProvisioningOutcome refusal) => new(null, null, refusal);

    public static IssuanceOutcome Limited(TimeSpan retryAfter, string detail) => new(null, null, ProvisioningOutcome.IssuanceLimited, retryAfter) { Detail = detail };

    /// <summary>What the device is told when limited.</summary>
    public string? Detail { get; init; }
}
