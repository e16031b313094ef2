using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Internal;

internal sealed partial class DeviceProvisioningService : IDeviceProvisioningService
{
    private readonly IDeviceStore _devices;
    private readonly DeviceAddressPublisher _addresses;
    private readonly ICertificateStore _certificates;
    private readonly DeviceSecretHasher _hasher;
    private readonly DeviceSecretRotation _secretRotation;
    private readonly IssuanceCoordinator _coordinator;
    private readonly IDataProtector _keyProtector;
    private readonly TimeProvider _time;
    private readonly DeviceProvisioningOptions _options;
    private readonly ProvisioningMetrics _metrics;
    private readonly ILogger<DeviceProvisioningService> _logger;

    public DeviceProvisioningService(
        IDeviceStore devices,
        DeviceAddressPublisher addresses,
        ICertificateStore certificates,
        DeviceSecretHasher hasher,
        DeviceSecretRotation secretRotation,
        IssuanceCoordinator coordinator,
        IDataProtectionProvider dataProtection,
        TimeProvider time,
        IOptionsMonitor<DeviceProvisioningOptions> options,
        ProvisioningMetrics metrics,
        ILogger<DeviceProvisioningService> logger)
    {
        _devices = devices;
        _addresses = addresses;
        _certificates = certificates;
        _hasher = hasher;
        _secretRotation = secretRotation;
        _coordinator = coordinator;
        _keyProtector = dataProtection.CreateProtector(ProtectionPurposes.DevicePrivateKey);
        _time = time;
        _options = options.CurrentValue;
        _metrics = metrics;
        _logger = logger;
    }

    public Task<ProvisioningResult> RegisterAsync(ProvisioningRequest request, CancellationToken cancellationToken)
        => ProvisionAsync(request, checkHostname: false, cancellationToken);

    public Task<ProvisioningResult> RenewAsync(ProvisioningRequest request, CancellationToken cancellationToken)
        => ProvisionAsync(request, checkHostname: true, cancellationToken);

    public async Task<ProvisioningResult> RequestCertificateAsync(string deviceId, byte[] certificateSigningRequest, TimeSpan waitBudget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certificateSigningRequest);
        var device = DeviceNames.IsValidDeviceId(deviceId) ? await _devices.FindAsync(deviceId, cancellationToken).ConfigureAwait(false) : null;
        if (device is null)
        {
            return new ProvisioningResult(ProvisioningOutcome.Unauthorized);
        }

        if (device.Status == DeviceStatus.Disabled)
        {
            return new ProvisioningResult(ProvisioningOutcome.Disabled, Detail: "The device is disabled.");
        }

        if (!CertificateSigningRequests.TryValidate(certificateSigningRequest, device.Hostname, out var der, out var publicKey, out var error))
        {
            return Invalid(error!);
        }

        return await ServeOrIssueAsync(device, new DeviceCsr(der, publicKey), waitBudget, cancellationToken).ConfigureAwait(false);
    }

    public async Task<SecretRotationResult> RotateSecretAsync(string deviceId, string? secret, CancellationToken cancellationToken)
    {
        if (!DeviceNames.IsValidDeviceId(deviceId))
        {
            return new SecretRotationResult(ProvisioningOutcome.Invalid, Detail: InvalidDeviceId);
        }

        var (device, refusal) = await AuthenticateAsync(deviceId, secret, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return new SecretRotationResult(refusal.Outcome, Detail: refusal.Detail);
        }

        var newSecret = await _secretRotation.StartAsync(device!, cancellationToken).ConfigureAwait(false);
        return newSecret is null
            ? new SecretRotationResult(ProvisioningOutcome.Unauthorized) // deleted meanwhile
            : new SecretRotationResult(ProvisioningOutcome.Current, device!.DeviceId, newSecret) { Hostname = device.Hostname };
    }

    public async Task<AddressUpdateResult> UpdateAddressesAsync(string deviceId, string? secret, IReadOnlyList<string?>? addresses, DeviceNameResolution? nameResolution, CancellationToken cancellationToken)
    {
        if (!DeviceNames.IsValidDeviceId(deviceId))
        {
            return new AddressUpdateResult(ProvisioningOutcome.Invalid, Detail: InvalidDeviceId);
        }

        if (addresses is null)
        {
            return new AddressUpdateResult(ProvisioningOutcome.Invalid, Detail: "addresses is required: the device's LAN addresses, [] for none.");
        }

        if (!DeviceAddresses.TryParse(addresses, _options.Addresses.AllowPublic, out var set, out var error))
        {
            return new AddressUpdateResult(ProvisioningOutcome.Invalid, Detail: error);
        }

        var (device, refusal) = await AuthenticateAsync(deviceId, secret, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return new AddressUpdateResult(refusal.Outcome, Detail: refusal.Detail);
        }

        var (stored, wait) = await _addresses.ChangeAsync(device!, set, cancellationToken).ConfigureAwait(false);
        if (stored is not null && nameResolution is { } resolution)
        {
            stored = await RecordNameResolutionAsync(stored, resolution, cancellationToken).ConfigureAwait(false);
        }

        return stored is null ? new AddressUpdateResult(ProvisioningOutcome.Unauthorized)
            : wait is { } retryAfter ? new AddressUpdateResult(ProvisioningOutcome.AddressChangesLimited, RetryAfter: retryAfter, Detail: AddressChangesLimitedDetail)
            : new AddressUpdateResult(ProvisioningOutcome.Current, stored.Hostname, stored.Addresses);
    }

    private const string InvalidDeviceId = "deviceId must be a lower-case DNS label: letters a-z, digits and inner hyphens, at most 63 characters.";

    private string AddressChangesLimitedDetail => $"This device changed its addresses more than {_options.Addresses.ChangesPerHour} times within an hour; try again after Retry-After.";

    private async Task<(Device? Device, ProvisioningResult? Refusal)> AuthenticateAsync(string deviceId, string? secret, CancellationToken cancellationToken)
    {
        var device = await _devices.FindAsync(deviceId, cancellationToken).ConfigureAwait(false);
        var match = await _hasher.MatchAsync(secret, device, cancellationToken).ConfigureAwait(false);
        if (match == SecretMatch.Pending && device!.Status != DeviceStatus.Disabled)
        {
            // The first call made with the secret the device asked for: it becomes the device's secret.
            device = await _secretRotation.PromoteAsync(device, cancellationToken).ConfigureAwait(false);
        }

        if (match == SecretMatch.None || device is null)
        {
            Log.AuthenticationFailed(_logger, deviceId);
            return (null, new ProvisioningResult(ProvisioningOutcome.Unauthorized));
        }

        return device.Status == DeviceStatus.Disabled
            ? (null, new ProvisioningResult(ProvisioningOutcome.Disabled, Detail: "The device is disabled."))
            : (device, null);
    }

    private async Task<ProvisioningResult> ProvisionAsync(ProvisioningRequest request, bool checkHostname, CancellationToken cancellationToken)
    {
        if (!DeviceNames.IsValidDeviceId(request.DeviceId))
        {
            return Invalid(InvalidDeviceId);
        }

        if (checkHostname && string.IsNullOrEmpty(request.Hostname))
        {
            return Invalid("hostname is required.");
        }

        IReadOnlyList<System.Net.IPAddress>? addresses = null;
        if (request.Addresses is not null && !DeviceAddresses.TryParse(request.Addresses, _options.Addresses.AllowPublic, out addresses, out var addressError))
        {
            return Invalid(addressError!);
        }

        var (authenticated, refusal) = await AuthenticateAsync(request.DeviceId, request.Secret, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return refusal;
        }

        var device = authenticated!;
        if (checkHostname && !string.Equals(request.Hostname, device.Hostname, StringComparison.OrdinalIgnoreCase))
        {
            return new ProvisioningResult(ProvisioningOutcome.HostnameMismatch, Detail: "The hostname is not this device's hostname.");
        }

        DeviceCsr? deviceCsr = null;
        if (request.CertificateSigningRequestPem is { } pem)
        {
            if (!CertificateSigningRequests.TryValidate(pem, device.Hostname, out var der, out var publicKey, out var error))
            {
                return Invalid(error!);
            }

            deviceCsr = new DeviceCsr(der, publicKey);
        }

        if (addresses is not null)
        {
            var (changed, wait) = await _addresses.ChangeAsync(device, addresses, cancellationToken).ConfigureAwait(false);
            if (changed is null)
            {
                return new ProvisioningResult(ProvisioningOutcome.Unauthorized); // deleted meanwhile
            }

            device = changed;
            if (wait is { } retryAfter)
            {
                return new ProvisioningResult(ProvisioningOutcome.AddressChangesLimited, RetryAfter: retryAfter, Detail: AddressChangesLimitedDetail);
            }
        }

        if (request.NameResolution is { } resolution && await RecordNameResolutionAsync(device, resolution, cancellationToken).ConfigureAwait(false) is { } recorded)
        {
            device = recorded;
        }

        return await ServeOrIssueAsync(device, deviceCsr, _options.IssuanceWaitBudget, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Keeps what the device saw resolving its own name; null when the device is gone.</summary>
    private async Task<Device?> RecordNameResolutionAsync(Device device, DeviceNameResolution resolution, CancellationToken cancellationToken)
    {
        // Nothing new (a client that reports it on every call): no write on the register path.
        if (device.NameResolution == resolution && device.NameResolutionAt is { } at && _time.GetUtcNow() - at < _options.LastSeenResolution)
        {
            return device;
        }

        for (var attempt = 1; ; attempt++)
        {
            device.NameResolution = resolution;
            device.NameResolutionAt = _time.GetUtcNow();
            try
            {
                await _devices.UpdateAsync(device, cancellationToken).ConfigureAwait(false);
                return device;
            }
            catch (ConcurrencyConflictException) when (attempt < 3)
            {
                if (await _devices.FindAsync(device.DeviceId, cancellationToken).ConfigureAwait(false) is not { } fresh)
                {
                    return null;
                }

                device = fresh;
            }
        }
    }

    /// <summary>Decide: the stored certificate when it serves (the fast path), else an issuance waited for up to <paramref name="waitBudget"/>.</summary>
    private async Task<ProvisioningResult> ServeOrIssueAsync(Device device, DeviceCsr? deviceCsr, TimeSpan waitBudget, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var current = device.CurrentCertificateId is { } id ? await _certificates.FindAsync(id, cancellationToken).ConfigureAwait(false) : null;
        if (current is not null && CanServe(current, deviceCsr, now))
        {
            await TouchAsync(device, now, cancellationToken).ConfigureAwait(false);
            _metrics.Served();
            return new ProvisioningResult(ProvisioningOutcome.Current, ToProvisioned(device, current, privateKeyPem: null));
        }

        return await IssueAsync(device, deviceCsr, waitBudget, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The fast path: the device holds a valid certificate outside its renewal window, for the key it
    /// asks about (its own CSR's key, or a server-made key when it sent none).
    /// </summary>
    private static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromMinutes(10);

    internal static bool CanServe(DeviceCertificate current, DeviceCsr? deviceCsr, DateTimeOffset now)
    {
        // A notBefore slightly ahead of our clock is the CA's clock, not a bad certificate: serving it
        // is right, and re-issuing would burn a CA rate limit on every call until the clocks agree.
        if (current.RevokedAt is not null || now >= current.NotAfter || now >= current.RenewAfter || current.NotBefore > now + ClockSkewAllowance)
        {
            return false;
        }

        return deviceCsr is null
            ? current.ProtectedPrivateKey is not null
            : IssuedChain.PublicKeyOf(current).AsSpan().SequenceEqual(deviceCsr.SubjectPublicKeyInfo);
    }

    private async Task<ProvisioningResult> IssueAsync(Device device, DeviceCsr? deviceCsr, TimeSpan waitBudget, CancellationToken cancellationToken)
    {
        var issuance = _coordinator.IssueAsync(device.DeviceId, device.Hostname, deviceCsr);
        IssuanceOutcome outcome;
        try
        {
            outcome = await issuance.WaitAsync(waitBudget, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return new ProvisioningResult(ProvisioningOutcome.Pending, RetryAfter: _options.PendingRetryAfter, Detail: "The certificate is being issued; call again after Retry-After.");
        }
        // What a device is told is stable and says nothing of the deployment (CA hosts, budgets, DNS provider or
        // socket errors): the operator reads the reason in the log and in the device's events.
        catch (CertificateIssuanceQueuedException ex)
        {
            return new ProvisioningResult(
                ProvisioningOutcome.Queued,
                RetryAfter: ex.RetryAfter,
                Detail: $"The certificate authority's capacity is used up for now: this device is number {ex.Position} in the queue, expected to get its certificate at {ex.EstimatedAt:yyyy-MM-dd HH:mm} UTC. Call again then; asking earlier keeps the place.")
            {
                QueuePosition = ex.Position,
                EstimatedAt = ex.EstimatedAt,
            };
        }
        catch (CertificateAuthorityUnavailableException ex)
        {
            return new ProvisioningResult(ProvisioningOutcome.Unavailable, RetryAfter: ex.RetryAfter ?? TimeSpan.FromSeconds(60), Detail: UnavailableDetail);
        }
        catch (CertificateIssuanceException)
        {
            return new ProvisioningResult(ProvisioningOutcome.Failed, Detail: "The certificate authority refused to issue this device's certificate; the operator finds the reason in the device's events.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProvisioningResult(ProvisioningOutcome.Unavailable, RetryAfter: _options.PendingRetryAfter, Detail: "The server is shutting down.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Store or DNS failures: nothing was handed out; the device may try again.
            return new ProvisioningResult(ProvisioningOutcome.Unavailable, RetryAfter: TimeSpan.FromSeconds(60), Detail: UnavailableDetail);
        }

        if (outcome.Refusal is ProvisioningOutcome.IssuanceLimited)
        {
            return new ProvisioningResult(
                ProvisioningOutcome.IssuanceLimited,
                RetryAfter: outcome.RetryAfter,
                Detail: outcome.Detail);
        }

        if (outcome.Refusal is ProvisioningOutcome.Disabled)
        {
            return new ProvisioningResult(ProvisioningOutcome.Disabled, Detail: "The device is disabled.");
        }

        if (outcome.Refusal is ProvisioningOutcome.Unauthorized)
        {
            return new ProvisioningResult(ProvisioningOutcome.Unauthorized);
        }

        if (outcome.Certificate is null)
        {
            return new ProvisioningResult(ProvisioningOutcome.Pending, RetryAfter: _options.PendingRetryAfter, Detail: "The certificate is being issued by another instance; call again after Retry-After.");
        }

        // A joiner that sent a CSR for another key than the issuance used must not receive it.
        if (deviceCsr is not null && !IssuedChain.PublicKeyOf(outcome.Certificate).AsSpan().SequenceEqual(deviceCsr.SubjectPublicKeyInfo))
        {
            return new ProvisioningResult(ProvisioningOutcome.Pending, RetryAfter: _options.PendingRetryAfter, Detail: "Another issuance for this device was under way; call again after Retry-After.");
        }

        return new ProvisioningResult(ProvisioningOutcome.Issued, ToProvisioned(device, outcome.Certificate, outcome.PrivateKeyPem));
    }

    private ProvisionedCertificate ToProvisioned(Device device, DeviceCertificate certificate, string? privateKeyPem)
    {
        if (privateKeyPem is null && certificate.ProtectedPrivateKey is { } protectedKey)
        {
            privateKeyPem = _keyProtector.Unprotect(protectedKey);
        }

        return new ProvisionedCertificate(
            device.DeviceId,
            device.Hostname,
            certificate.CertificatePem,
            privateKeyPem,
            certificate.NotBefore,
            certificate.NotAfter,
            certificate.RenewAfter,
            device.Addresses)
        {
            CertificateId = certificate.Id,
        };
    }

    private async Task TouchAsync(Device device, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (device.LastSeenAt is { } seen && now - seen < _options.LastSeenResolution)
        {
            return;
        }

        device.LastSeenAt = now;
        try
        {
            await _devices.UpdateAsync(device, cancellationToken).ConfigureAwait(false);
        }
        catch (ConcurrencyConflictException)
        {
            // Someone else wrote the device a moment ago; last-seen is best effort.
        }
    }

    private const string UnavailableDetail = "The certificate cannot be issued right now; call again after Retry-After.";

    private static ProvisioningResult Invalid(string detail) => new(ProvisioningOutcome.Invalid, Detail: detail);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Authentication failed for device {DeviceId}.")]
        public static partial void AuthenticationFailed(ILogger logger, string deviceId);
    }
}
