using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>What the first step decided: serve what is stored, refuse for a limit, or issue.</summary>
internal abstract record IssuanceDecision
{
    /// <summary>Another issuance stored a certificate the caller can have (it read the device before).</summary>
    public sealed record Serve(DeviceCertificate Certificate) : IssuanceDecision;

    /// <summary>A per-device limit refuses a new issuance now.</summary>
    public sealed record Limit(IssuanceOutcome Outcome) : IssuanceDecision;

    /// <summary>Issue: the device as read under the lease, its current certificate, and the issuance to run (new or resumed).</summary>
    public sealed record Issue(Device Device, DeviceCertificate? Current, PendingIssuance Pending, string? PrivateKeyPem, bool Resuming) : IssuanceDecision;
}

/// <summary>
/// Step 1 of the issuance pipeline, under the device's lease: read the device again; serve a certificate another
/// issuance stored meanwhile; resume the device's unfinished issuance when it is the one asked for (or drop it);
/// refuse when the CA refused too often lately or the device asks for too many early re-issuances; otherwise
/// make the CSR (a server-made key, encrypted at rest, or the device's own) for a new issuance.
/// </summary>
internal sealed partial class IssuanceDecider(TimeProvider time, IDataProtector keyProtector, ProvisioningMetrics metrics, ILogger logger)
{
    public async Task<IssuanceDecision> DecideAsync(IssuanceScope scope)
    {
        var (deviceId, services, options, cancellationToken) = (scope.DeviceId, scope.Services, scope.Options, scope.CancellationToken);
        var devices = services.GetRequiredService<IDeviceStore>();
        var certificates = services.GetRequiredService<ICertificateStore>();
        var device = await devices.FindAsync(deviceId, cancellationToken).ConfigureAwait(false)
            ?? throw new CertificateIssuanceException($"Device '{deviceId}' was deleted during issuance.");
        var current = device.CurrentCertificateId is { } currentId ? await certificates.FindAsync(currentId, cancellationToken).ConfigureAwait(false) : null;
        if (current is not null && DeviceProvisioningService.CanServe(current, scope.DeviceCsr, time.GetUtcNow()))
        {
            return new IssuanceDecision.Serve(current);
        }

        var journalStore = services.GetRequiredService<IIssuanceJournalStore>();
        var pending = await journalStore.FindPendingAsync(deviceId, cancellationToken).ConfigureAwait(false);
        if (pending is not null && !CanResume(pending, scope.Issuer.Name, scope.DeviceCsr, current))
        {
            await journalStore.RemovePendingAsync(deviceId, cancellationToken).ConfigureAwait(false);
            pending = null;
        }

        if (pending is not null)
        {
            metrics.Resumed(scope.Issuer.Name);
            Log.Resuming(logger, deviceId, pending.StartedAt, pending.IssuerReference);
            var key = pending.ProtectedPrivateKey is { } protectedKey ? keyProtector.Unprotect(protectedKey) : null;
            return new IssuanceDecision.Issue(device, current, pending, key, Resuming: true);
        }

        // Limits are counted under the lease, so concurrent calls on any instance see each other's issuances.
        // (A resumed issuance was counted when it began.)
        var now = time.GetUtcNow();
        if (await IssuanceFailures.RefusalsWaitAsync(services, deviceId, options, now, cancellationToken).ConfigureAwait(false) is { } refusalsWait)
        {
            Log.FailuresLimited(logger, deviceId, options.FailedIssuanceLimit);
            return new IssuanceDecision.Limit(IssuanceOutcome.Limited(
                refusalsWait,
                $"The CA refused this device's certificate {options.FailedIssuanceLimit} times within {Describe(options.FailedIssuanceWindow)}; try again after Retry-After (check the CSR the device sends)."));
        }

        // A new key while the certificate is still good and not due: an early re-issuance.
        var early = current is not null && current.RevokedAt is null && now < current.RenewAfter && now < current.NotAfter;
        if (early)
        {
            var recent = await certificates.ListEarlyReissuesAsync(deviceId, now - options.DeviceIssuanceWindow, cancellationToken).ConfigureAwait(false);
            if (recent.Count >= options.DeviceIssuanceLimit)
            {
                Log.IssuanceLimited(logger, deviceId, recent.Count);
                return new IssuanceDecision.Limit(IssuanceOutcome.Limited(
                    recent[recent.Count - options.DeviceIssuanceLimit] + options.DeviceIssuanceWindow - now,
                    $"This device asked for a new certificate while its own is valid more than {options.DeviceIssuanceLimit} times within {Describe(options.DeviceIssuanceWindow)}; its current certificate is still served for its own key. Try again after Retry-After."));
            }
        }

        string? privateKeyPem = null;
        byte[] csr;
        byte[] publicKey;
        if (scope.DeviceCsr is { } deviceCsr)
        {
            (csr, publicKey) = (deviceCsr.Der, deviceCsr.SubjectPublicKeyInfo);
        }
        else
        {
            (csr, privateKeyPem, publicKey) = CertificateSigningRequests.CreateWithNewKey(scope.Hostname, options.KeyAlgorithm);
        }

        // Kept with the issuance and written to the store as soon as the issuer journals anything (an ACME order, a
        // DNS record): a crash from then on leaves the same CSR, key and CA order for the next attempt to resume.
        pending = new PendingIssuance
        {
            DeviceId = deviceId,
            Issuer = scope.Issuer.Name,
            CertificateSigningRequest = csr,
            PublicKey = publicKey,
            ProtectedPrivateKey = privateKeyPem is null ? null : keyProtector.Protect(privateKeyPem),
            ReplacesCertificateId = current?.Id,
            Early = early,
            StartedAt = now,
        };
        return new IssuanceDecision.Issue(device, current, pending, privateKeyPem, Resuming: false);
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

    private static string Describe(TimeSpan window) => window.TotalDays >= 1 ? $"{window.TotalDays:0.#} days" : $"{window.TotalHours:0.#} hours";

    private static partial class Log
    {
        [LoggerMessage(6, LogLevel.Warning, "Device {DeviceId} asked for a new certificate while its own is valid, {Count} times within the window: refused until the oldest leaves it.")]
        public static partial void IssuanceLimited(ILogger logger, string deviceId, int count);

        [LoggerMessage(9, LogLevel.Information, "Resuming the issuance of device {DeviceId} begun at {StartedAt:O} and not finished (CA reference {Reference}).")]
        public static partial void Resuming(ILogger logger, string deviceId, DateTimeOffset startedAt, string? reference);

        [LoggerMessage(14, LogLevel.Warning, "The CA refused issuances of device {DeviceId} {Limit} times within the window: no new attempt until the oldest leaves it.")]
        public static partial void FailuresLimited(ILogger logger, string deviceId, int limit);
    }
}
