using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// Issues device certificates over ACME with DNS-01: order, TXT record through the
/// <see cref="IDnsProvider"/> (at the end of any <c>_acme-challenge</c> CNAME), wait for propagation,
/// respond, poll, finalize with the CSR, download, and always remove the record.
/// </summary>
internal sealed partial class AcmeCertificateIssuer : ICertificateIssuer
{
    public const string IssuerName = "Acme";
    private static readonly TimeSpan s_cleanupTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_renewalInfoTimeout = TimeSpan.FromSeconds(5);

    private readonly AcmeAccountManager _accounts;
    private readonly AcmeRateLimitGate _gate;
    private readonly DnsPropagation _propagation;
    private readonly IDnsProvider _dns;
    private readonly IOptionsMonitor<AcmeIssuerOptions> _options;
    private readonly ILogger<AcmeCertificateIssuer> _logger;

    public AcmeCertificateIssuer(
        AcmeAccountManager accounts,
        AcmeRateLimitGate gate,
        DnsPropagation propagation,
        IDnsProvider dns,
        IOptionsMonitor<AcmeIssuerOptions> options,
        ILogger<AcmeCertificateIssuer> logger)
    {
        _accounts = accounts;
        _gate = gate;
        _propagation = propagation;
        _dns = dns;
        _options = options;
        _logger = logger;
    }

    public string Name => IssuerName;

    public async Task<IssuedCertificate> IssueAsync(CertificateIssueRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        _gate.ThrowIfClosed(request.Hostname);
        using var activity = AcmeDiagnostics.ActivitySource.StartActivity("ACME issue");
        activity?.SetTag("dns.name", request.Hostname);
        AcmeClient? client = null;
        try
        {
            using var slot = await _gate.EnterOrderAsync(cancellationToken).ConfigureAwait(false);
            _gate.ThrowIfClosed(request.Hostname); // It may have closed while this order waited for a slot.
            var started = Stopwatch.GetTimestamp();
            client = await _accounts.GetClientAsync(cancellationToken).ConfigureAwait(false);
            var options = _options.CurrentValue;
            var order = await NewOrderAsync(client, request, options, cancellationToken).ConfigureAwait(false);

            // Authorizations are independent: answer them together.
            await Task.WhenAll(order.Authorizations.Select(url => AuthorizeAsync(client, url, cancellationToken))).ConfigureAwait(false);

            if (order.Status is not (AcmeStatus.Ready or AcmeStatus.Valid))
            {
                order = await client.WaitForOrderAsync(order.Location, cancellationToken).ConfigureAwait(false);
            }

            if (order.Status == AcmeStatus.Ready)
            {
                order = await client.FinalizeOrderAsync(order, request.CertificateSigningRequest, cancellationToken).ConfigureAwait(false);
            }

            if (order.Status != AcmeStatus.Valid)
            {
                order = await client.WaitForOrderAsync(order.Location, cancellationToken).ConfigureAwait(false);
            }

            if (order.Status != AcmeStatus.Valid || order.Certificate is null)
            {
                throw new CertificateIssuanceException($"The CA left the order for '{request.Hostname}' {order.Status} after finalization.");
            }

            var chain = await client.DownloadCertificateAsync(order.Certificate, options.PreferredChain, cancellationToken).ConfigureAwait(false);
            var renewAfter = await RenewalTimeAsync(client, chain.Pem, cancellationToken).ConfigureAwait(false);
            AcmeDiagnostics.IssuanceDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            return new IssuedCertificate(chain.Pem, renewAfter);
        }
        catch (Exception ex) when (Translate(ex, client, request.Hostname) is { } translated)
        {
            activity?.SetStatus(ActivityStatusCode.Error, translated.Message);
            throw translated;
        }
    }

    public async Task RevokeAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        AcmeClient? client = null;
        try
        {
            client = await _accounts.GetClientAsync(cancellationToken).ConfigureAwait(false);
            using var leaf = X509Certificate2.CreateFromPem(certificate.CertificatePem);
            try
            {
                // Reason 4 (superseded) would suit renewals; an admin revoking a device's certificate
                // is usually retiring or distrusting the device: unspecified (no reason) is the honest default.
                await client.RevokeCertificateAsync(leaf.RawDataMemory, reason: null, cancellationToken).ConfigureAwait(false);
            }
            catch (AcmeProblemException ex) when (ex.ProblemType == AcmeErrorTypes.AlreadyRevoked)
            {
                Log.AlreadyRevoked(_logger, certificate.SerialNumber);
            }
        }
        catch (Exception ex) when (Translate(ex, client, certificate.SerialNumber) is { } translated)
        {
            throw translated;
        }
    }

    private async Task<AcmeOrder> NewOrderAsync(AcmeClient client, CertificateIssueRequest request, AcmeIssuerOptions options, CancellationToken cancellationToken)
    {
        var directory = await client.GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        string? replaces = null;
        if (directory.RenewalInfo is not null && request.Replaces is { Issuer: IssuerName } previous)
        {
            replaces = AcmeCertificateIdentifier.TryGet(previous.CertificatePem);
        }

        if (options.Profile is { } profile && directory.Meta?.Profiles?.ContainsKey(profile) != true)
        {
            var offered = directory.Meta?.Profiles is { Count: > 0 } profiles ? "it offers: " + string.Join(", ", profiles.Keys) : "it offers none";
            throw new CertificateIssuanceException($"The certificate profile '{profile}' is configured, but the CA does not offer it ({offered}): change or remove the Profile setting.");
        }

        var orderRequest = new AcmeOrderRequest
        {
            Identifiers = [AcmeIdentifier.Dns(request.Hostname)],
            Replaces = replaces,
            Profile = options.Profile,
        };
        try
        {
            return await client.NewOrderAsync(orderRequest, cancellationToken).ConfigureAwait(false);
        }
        catch (AcmeProblemException ex) when (replaces is not null && ex is not AcmeRateLimitedException
            && (ex.ProblemType == AcmeErrorTypes.AlreadyReplaced || (ex.ProblemType == AcmeErrorTypes.Malformed && ex.Problem.Detail?.Contains("replaces", StringComparison.OrdinalIgnoreCase) == true)))
        {
            // The previous certificate was replaced already (another order won) or the CA does not
            // know it: renew without the ARI link rather than not at all.
            Log.ReplacesRefused(_logger, request.Hostname, ex.Problem.ToString());
            return await client.NewOrderAsync(orderRequest with { Replaces = null }, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AuthorizeAsync(AcmeClient client, Uri authorizationUrl, CancellationToken cancellationToken)
    {
        var authorization = await client.GetAuthorizationAsync(authorizationUrl, cancellationToken).ConfigureAwait(false);
        if (authorization.Status == AcmeStatus.Valid)
        {
            return; // Reused: the account proved control of this name recently.
        }

        var challenge = authorization.Challenges.FirstOrDefault(c => c.Type == "dns-01")
            ?? throw new CertificateIssuanceException($"The CA offers no dns-01 challenge for '{authorization.Identifier.Value}'.");
        if (challenge.Status is AcmeStatus.Processing or AcmeStatus.Valid)
        {
            await client.WaitForAuthorizationAsync(authorizationUrl, cancellationToken).ConfigureAwait(false);
            return;
        }

        var challengeName = "_acme-challenge." + authorization.Identifier.Value.TrimStart('*', '.');
        var value = client.GetDns01TxtValue(challenge.Token ?? throw new AcmeProtocolException("The dns-01 challenge has no token."));
        var target = await _propagation.ResolveTargetAsync(challengeName, cancellationToken).ConfigureAwait(false);

        var started = Stopwatch.GetTimestamp();
        DnsTxtRecord record;
        try
        {
            record = await _dns.CreateTxtRecordAsync(target, value, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not CertificateAuthorityUnavailableException and not CertificateIssuanceException)
        {
            throw new DnsPropagationException($"The DNS provider could not create the TXT record '{target}': {ex.Message}", ex);
        }
        finally
        {
            AcmeDiagnostics.DnsProviderDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        try
        {
            await _propagation.WaitForTxtAsync(target, value, cancellationToken).ConfigureAwait(false);
            await client.RespondToChallengeAsync(challenge.Url, cancellationToken).ConfigureAwait(false);
            await client.WaitForAuthorizationAsync(authorizationUrl, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await CleanUpAsync(record).ConfigureAwait(false);
        }
    }

    /// <summary>Removes the TXT record on every path, cancellation included, with its own time limit.</summary>
    private async Task CleanUpAsync(DnsTxtRecord record)
    {
        var started = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(s_cleanupTimeout);
        try
        {
            await _dns.DeleteTxtRecordAsync(record, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.CleanupFailed(_logger, record.Name, ex);
        }
        finally
        {
            AcmeDiagnostics.DnsProviderDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>A random time in the CA's ARI window; <see langword="null"/> (the default window) without ARI.</summary>
    private async Task<DateTimeOffset?> RenewalTimeAsync(AcmeClient client, string chainPem, CancellationToken cancellationToken)
    {
        var directory = await client.GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        if (directory.RenewalInfo is null)
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_renewalInfoTimeout);
        try
        {
            using var leaf = X509Certificate2.CreateFromPem(chainPem);
            var info = await client.GetRenewalInfoAsync(leaf, timeout.Token).ConfigureAwait(false);
            return info?.PickRenewalTime();
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or AcmeProblemException or AcmeProtocolException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The certificate is issued; a missing ARI answer only means the default renewal window.
            Log.RenewalInfoFailed(_logger, ex);
            return null;
        }
    }

    /// <summary>Maps ACME, HTTP and DNS failures to the provisioning core's two kinds: try later (503) or refused (502).</summary>
    private Exception? Translate(Exception exception, AcmeClient? client, string subject)
    {
        switch (exception)
        {
            case CertificateAuthorityUnavailableException or CertificateIssuanceException:
                return null;
            case OperationCanceledException:
                return null;
            case AcmeRateLimitedException rateLimited when AcmeRateLimitClassifier.Classify(rateLimited.Problem) == AcmeRateLimitScope.Identifier:
                var held = _gate.HoldName(subject, rateLimited.RetryAfter);
                Log.RateLimited(_logger, subject, rateLimited.Problem.Detail, held);
                return new CertificateAuthorityUnavailableException(
                    $"The CA's rate limit for this name was reached: {rateLimited.Problem.Detail} A new order for it is placed in {held.TotalMinutes:0.#} min; other devices are not affected.",
                    held,
                    rateLimited);
            case AcmeRateLimitedException rateLimited:
                var retryAfter = _gate.Close(rateLimited.RetryAfter);
                Log.RateLimited(_logger, subject, rateLimited.Problem.Detail, retryAfter);
                return new CertificateAuthorityUnavailableException(
                    $"The CA's rate limit was reached: {rateLimited.Problem.Detail} New orders resume in {retryAfter.TotalMinutes:0.#} min.",
                    retryAfter,
                    rateLimited);
            case AcmeAccountDoesNotExistException or AcmeUnauthorizedException when client is not null && exception.Message.Contains("account", StringComparison.OrdinalIgnoreCase):
                _accounts.Invalidate(client);
                return new CertificateAuthorityUnavailableException($"The CA no longer knows the ACME account; it is registered again on the next attempt. ({exception.Message})", TimeSpan.FromSeconds(10), exception);
            case AcmeProblemException problem when (int)problem.StatusCode >= 500 || problem.ProblemType == AcmeErrorTypes.ServerInternal:
                return new CertificateAuthorityUnavailableException($"The CA failed: {problem.Problem}", problem.RetryAfter ?? TimeSpan.FromSeconds(60), problem);
            case AcmeBadNonceException:
                return new CertificateAuthorityUnavailableException($"The CA kept rejecting nonces: {exception.Message}", TimeSpan.FromSeconds(5), exception);
            case AcmeProblemException problem:
                return new CertificateIssuanceException($"The CA refused: {problem.Problem}", problem);
            case AcmeValidationException validation:
                return new CertificateIssuanceException($"DNS-01 validation failed: {validation.Message}", validation);
            case DnsPropagationException dns:
                return new CertificateAuthorityUnavailableException(dns.Message, TimeSpan.FromSeconds(60), dns);
            case HttpRequestException or TimeoutException or IOException:
                return new CertificateAuthorityUnavailableException($"The ACME server could not be reached: {exception.Message}", TimeSpan.FromSeconds(60), exception);
            case AcmeProtocolException:
                return new CertificateAuthorityUnavailableException($"The ACME server answered unexpectedly: {exception.Message}", TimeSpan.FromSeconds(60), exception);
            case System.Net.Sockets.SocketException or DnsClient.DnsResponseException:
                return new CertificateAuthorityUnavailableException($"DNS could not be queried: {exception.Message}", TimeSpan.FromSeconds(60), exception);
            default:
                return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Removing the DNS-01 TXT record {Name} failed; remove it by hand if it stays.")]
        public static partial void CleanupFailed(ILogger logger, string name, Exception exception);

        [LoggerMessage(2, LogLevel.Warning, "The CA rate-limited the order for {Subject}: {Detail}. New orders paused for {RetryAfter}.")]
        public static partial void RateLimited(ILogger logger, string subject, string? detail, TimeSpan retryAfter);

        [LoggerMessage(3, LogLevel.Information, "The CA refused 'replaces' for {Hostname} ({Problem}); ordering without it.")]
        public static partial void ReplacesRefused(ILogger logger, string hostname, string problem);

        [LoggerMessage(4, LogLevel.Warning, "Reading ACME renewal information failed; using the default renewal window.")]
        public static partial void RenewalInfoFailed(ILogger logger, Exception exception);

        [LoggerMessage(5, LogLevel.Information, "Certificate {SerialNumber} was already revoked at the CA.")]
        public static partial void AlreadyRevoked(ILogger logger, string serialNumber);
    }
}
