using System.Security.Cryptography.X509Certificates;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// One certificate at one CA, in five steps, one method each, after resuming an unfinished order from the
/// issuance journal when there is one (<see cref="ResumeOrderAsync"/>): <see cref="PlaceOrderAsync"/> (with the
/// budget's permits and the ARI <c>replaces</c> link), <see cref="ProveControlAsync"/> (DNS-01: TXT record through
/// the <see cref="IDnsProvider"/> at the end of any <c>_acme-challenge</c> CNAME, propagation, respond, poll,
/// always remove the record), <see cref="FinalizeAsync"/> with the CSR, <see cref="DownloadAsync"/> and
/// <see cref="RenewalTimeAsync"/> (ARI). Whatever fails in any step is classified once, by
/// <see cref="AcmeFailureClassifier"/>, and acted on in <see cref="Translate"/> (the CA's gate, its account, the
/// budget). Which CA is asked is <see cref="AcmeCertificateIssuer"/>'s business.
/// </summary>
internal sealed partial class AcmeOrderFlow(
    AcmeAccountManager accounts,
    AcmeBudget budget,
    DnsPropagation propagation,
    IDnsProvider dns,
    IOptionsMonitor<AcmeIssuerOptions> optionsMonitor,
    TimeProvider time,
    AcmeMetrics metrics,
    Random random,
    ILogger logger)
{
    private static readonly TimeSpan s_cleanupTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_renewalInfoTimeout = TimeSpan.FromSeconds(5);
    private readonly AcmeAccountManager _accounts = accounts;
    private readonly AcmeBudget _budget = budget;
    private readonly DnsPropagation _propagation = propagation;
    private readonly IDnsProvider _dns = dns;
    private readonly IOptionsMonitor<AcmeIssuerOptions> _options = optionsMonitor;
    private readonly TimeProvider _time = time;
    private readonly AcmeMetrics _metrics = metrics;
    private readonly ILogger _logger = logger;

    public async Task<IssuedCertificate> IssueAtAsync(AcmeCertificateAuthority ca, CertificateIssueRequest request, CancellationToken cancellationToken)
    {
        ca.Gate.ThrowIfClosed(request.Hostname);
        using var activity = AcmeDiagnostics.ActivitySource.StartActivity("ACME issue");
        activity?.SetTag("dns.name", request.Hostname);
        activity?.SetTag("acme.ca", ca.Label);
        AcmeClient? client = null;
        var permits = new List<AcmeBudget.Permit>();
        var finalized = false;
        try
        {
            using var slot = await ca.Gate.EnterOrderAsync(cancellationToken).ConfigureAwait(false);
            ca.Gate.ThrowIfClosed(request.Hostname); // It may have closed while this order waited for a slot.
            var started = _time.GetTimestamp();
            client = await _accounts.GetClientAsync(ca, cancellationToken).ConfigureAwait(false);
            var options = _options.CurrentValue;
            var order = await ResumeOrderAsync(client, request, cancellationToken).ConfigureAwait(false);
            if (order is null)
            {
                order = await PlaceOrderAsync(ca, client, request, options, permits, cancellationToken).ConfigureAwait(false);

                // The CA counted the order whatever becomes of it: its order permit is spent.
                permits.RemoveAll(p => p.CountsOrders);
                if (request.Journal is { } journal)
                {
                    // Kept before the CA is asked to validate and issue: after a crash, the next attempt
                    // finds this order (and its certificate) instead of ordering again.
                    await journal.SaveReferenceAsync(order.Location.AbsoluteUri, cancellationToken).ConfigureAwait(false);
                }
            }

            await ProveControlAsync(client, order, request.Journal, cancellationToken).ConfigureAwait(false);
            order = await FinalizeAsync(client, order, request, cancellationToken).ConfigureAwait(false);
            finalized = true;
            var chain = await DownloadAsync(client, order, options, cancellationToken).ConfigureAwait(false);
            var renewAfter = await RenewalTimeAsync(client, chain.Pem, cancellationToken).ConfigureAwait(false);
            _metrics.IssuanceDuration.Record(_time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("ca", ca.Label));
            return new IssuedCertificate(chain.Pem, renewAfter) { CertificateAuthority = ca.Id };
        }
        catch (Exception ex) when (Translate(ex, ca, client, request.Hostname) is { } translated)
        {
            activity?.SetStatus(ActivityStatusCode.Error, translated.Message);
            if (ca.IsPrimary && ex is AcmeRateLimitedException limited && _budget.Counts(limited.Problem, client?.AccountUrl))
            {
                permits.Clear(); // the bucket is emptied below: nothing to give back
                await _budget.ReconcileAsync(limited.Problem, client?.AccountUrl, request.Hostname, translated is CertificateAuthorityUnavailableException { RetryAfter: { } wait } ? wait : _options.CurrentValue.RateLimitBackoff).ConfigureAwait(false);
            }

            throw translated;
        }
        finally
        {
            if (!finalized && permits.Count > 0)
            {
                // Only what the CA issued counts against the certificate budget: an order that never got to
                // finalize gives that permit back (an order permit only when the order was never placed).
                await _budget.ReturnAsync(permits).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Step 0: the order an earlier attempt of this issuance placed and did not finish (its process
    /// died), if the CA can still complete it (<see cref="AcmeOrderResumption"/>); <see langword="null"/> to order afresh.
    /// </summary>
    private async Task<AcmeOrder?> ResumeOrderAsync(AcmeClient client, CertificateIssueRequest request, CancellationToken cancellationToken)
    {
        if (request.Journal?.ResumeFrom is not { } reference)
        {
            return null;
        }

        var directory = await client.GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        if (!Uri.TryCreate(reference, UriKind.Absolute, out var orderUrl)
            || !string.Equals(orderUrl.Authority, directory.NewOrder.Authority, StringComparison.OrdinalIgnoreCase))
        {
            Log.ResumeSkipped(_logger, request.Hostname, reference, "not an order of this CA");
            return null;
        }

        AcmeOrder order;
        try
        {
            order = await client.GetOrderAsync(orderUrl, cancellationToken).ConfigureAwait(false);
        }
        catch (AcmeProblemException ex) when (ex is not AcmeRateLimitedException)
        {
            // Gone, or another account's (the account was replaced): order afresh.
            Log.ResumeSkipped(_logger, request.Hostname, reference, ex.Problem.ToString());
            return null;
        }

        var decision = AcmeOrderResumption.Decide(order, request.Hostname, _time.GetUtcNow());
        Log.Resumed(_logger, request.Hostname, reference, order.Status, decision);
        return decision == AcmeOrderResumption.Restart ? null : order;
    }

    /// <summary>Step 1: a new order for the device's hostname, linked to the certificate it replaces when the CA has ARI.</summary>
    private async Task<AcmeOrder> PlaceOrderAsync(AcmeCertificateAuthority ca, AcmeClient client, CertificateIssueRequest request, AcmeIssuerOptions options, List<AcmeBudget.Permit> permits, CancellationToken cancellationToken)
    {
        var directory = await client.GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        string? replaces = null;
        if (directory.RenewalInfo is not null && request.Replaces is { Issuer: AcmeCertificateIssuer.IssuerName } previous && ca.Issued(previous.CertificateAuthority))
        {
            // ARI's certificate ID means something only to the CA that issued it.
            replaces = AcmeCertificateIdentifier.TryGet(previous.CertificatePem);
        }

        // Counted before the CA is asked; a renewal with `replaces` is exempt from the CA's limits.
        // The budget is the primary's: a fallback's own limits show as its rateLimited answers.
        if (ca.IsPrimary)
        {
            permits.AddRange(await _budget.ReserveAsync(request.Hostname, client.AccountUrl, renewal: replaces is not null, request.ServerMadeKey, cancellationToken).ConfigureAwait(false));
        }

        // The profile is asked of the primary; a fallback is asked for it only when it offers one of that name.
        var profile = ca.IsPrimary || directory.Meta?.Profiles?.ContainsKey(options.Profile ?? string.Empty) == true ? options.Profile : null;
        if (profile is not null && directory.Meta?.Profiles?.ContainsKey(profile) != true)
        {
            var offered = directory.Meta?.Profiles is { Count: > 0 } profiles ? "it offers: " + string.Join(", ", profiles.Keys) : "it offers none";
            throw new CertificateIssuanceException($"The certificate profile '{profile}' is configured, but the CA does not offer it ({offered}): change or remove the Profile setting.");
        }

        var orderRequest = new AcmeOrderRequest
        {
            Identifiers = [AcmeIdentifier.Dns(request.Hostname)],
            Replaces = replaces,
            Profile = profile,
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
            if (ca.IsPrimary)
            {
                permits.AddRange(await _budget.ReserveAsync(request.Hostname, client.AccountUrl, renewal: false, request.ServerMadeKey, cancellationToken).ConfigureAwait(false));
            }

            return await client.NewOrderAsync(orderRequest with { Replaces = null }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Step 2: DNS-01 for every authorization of the order, together (they are independent).</summary>
    private Task ProveControlAsync(AcmeClient client, AcmeOrder order, IIssuanceJournal? journal, CancellationToken cancellationToken)
        => order.Status is AcmeStatus.Valid or AcmeStatus.Ready or AcmeStatus.Processing
            ? Task.CompletedTask
            : Task.WhenAll(order.Authorizations.Select(url => AuthorizeAsync(client, url, journal, cancellationToken)));

    /// <summary>Step 3: once the order is ready, finalize it with the device's CSR and wait until it is valid.</summary>
    private static async Task<AcmeOrder> FinalizeAsync(AcmeClient client, AcmeOrder order, CertificateIssueRequest request, CancellationToken cancellationToken)
    {
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

        return order;
    }

    /// <summary>Step 4: the certificate chain (the preferred one when the CA offers alternatives).</summary>
    private static Task<AcmeCertificateChain> DownloadAsync(AcmeClient client, AcmeOrder order, AcmeIssuerOptions options, CancellationToken cancellationToken)
        => client.DownloadCertificateAsync(order.Certificate!, options.PreferredChain, cancellationToken);

    private async Task AuthorizeAsync(AcmeClient client, Uri authorizationUrl, IIssuanceJournal? journal, CancellationToken cancellationToken)
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

        // Written down before the record exists: if this process dies from here on, a janitor removes it.
        Guid? entry = journal is null ? null : await journal.DnsRecordCreatingAsync(target, value, cancellationToken).ConfigureAwait(false);
        var started = _time.GetTimestamp();
        DnsTxtRecord? record = null;
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
            _metrics.DnsProviderCall("create", record is not null, _time.GetElapsedTime(started).TotalSeconds);
        }

        try
        {
            if (journal is not null && entry is { } id)
            {
                await journal.DnsRecordCreatedAsync(id, record, cancellationToken).ConfigureAwait(false);
            }

            await _propagation.WaitForTxtAsync(target, value, cancellationToken).ConfigureAwait(false);
            await client.RespondToChallengeAsync(challenge.Url, cancellationToken).ConfigureAwait(false);
            await client.WaitForAuthorizationAsync(authorizationUrl, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await CleanUpAsync(record, journal, entry).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Removes the TXT record on every path, cancellation included, with its own time limit, then clears
    /// its journal entry; a record that could not be removed stays in the journal for the janitor.
    /// </summary>
    private async Task CleanUpAsync(DnsTxtRecord record, IIssuanceJournal? journal, Guid? entry)
    {
        var started = _time.GetTimestamp();
        using var timeout = new CancellationTokenSource(s_cleanupTimeout, _time);
        var removed = false;
        try
        {
            await _dns.DeleteTxtRecordAsync(record, timeout.Token).ConfigureAwait(false);
            removed = true;
            _metrics.DnsProviderCall("delete", succeeded: true, _time.GetElapsedTime(started).TotalSeconds);
            if (journal is not null && entry is { } id)
            {
                await journal.DnsRecordRemovedAsync(id, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            if (!removed)
            {
                _metrics.DnsProviderCall("delete", succeeded: false, _time.GetElapsedTime(started).TotalSeconds);
            }

            Log.CleanupFailed(_logger, record.Name, ex);
        }
    }

    /// <summary>Step 5: a random time in the CA's ARI window; <see langword="null"/> (the default window) without ARI.</summary>
    /// <summary>
    /// Acts on the classified failure (holds a name or closes the gate, forgets a lost account) and
    /// turns it into the provisioning core's two kinds: try later (503) or refused (502).
    /// </summary>
    public Exception? Translate(Exception exception, AcmeCertificateAuthority ca, AcmeClient? client, string subject)
    {
        if (exception is CertificateAuthorityUnavailableException or CertificateIssuanceException or OperationCanceledException
            || AcmeFailureClassifier.Classify(exception) is not { } failure)
        {
            return null;
        }

        switch (failure.Kind)
        {
            case AcmeFailureKind.NameRateLimited:
                var held = ca.Gate.HoldName(subject, failure.RetryAfter);
                Log.RateLimited(_logger, subject, failure.Message, held);
                return new CertificateAuthorityUnavailableException(
                    $"{failure.Message} A new order for it is placed in {held.TotalMinutes:0.#} min; other devices are not affected.", held, exception);
            case AcmeFailureKind.DeploymentRateLimited when ca.IsPrimary && exception is AcmeRateLimitedException limited && _budget.Counts(limited.Problem, client?.AccountUrl):
                // A budget counted here: it takes over (emptied until Retry-After; new devices queue), renewals go on.
                var wait = failure.RetryAfter is { } asked && asked > TimeSpan.Zero ? asked : _options.CurrentValue.RateLimitBackoff;
                Log.RateLimited(_logger, subject, failure.Message, wait);
                return new CertificateAuthorityUnavailableException($"{failure.Message} New devices wait in the budget's queue until then.", wait, exception);
            case AcmeFailureKind.DeploymentRateLimited:
                var retryAfter = ca.Gate.Close(failure.RetryAfter);
                Log.RateLimited(_logger, subject, failure.Message, retryAfter);
                return new CertificateAuthorityUnavailableException($"{failure.Message} New orders resume in {retryAfter.TotalMinutes:0.#} min.", retryAfter, exception);
            case AcmeFailureKind.AccountGone:
                if (client is not null)
                {
                    AcmeAccountManager.Invalidate(ca, client);
                }

                return new CertificateAuthorityUnavailableException(failure.Message, failure.RetryAfter, exception);
            case AcmeFailureKind.Unavailable when failure.OurDnsSide:
                return new DnsSideUnavailableException(failure.Message, failure.RetryAfter, exception);
            case AcmeFailureKind.Unavailable:
                return new CertificateAuthorityUnavailableException(failure.Message, failure.RetryAfter, exception);
            default:
                return new CertificateIssuanceException(failure.Message, exception);
        }
    }


    /// <summary>Step 5: a random time in the CA's ARI window; <see langword="null"/> (the default window) without ARI.</summary>
    public async Task<DateTimeOffset?> RenewalTimeAsync(AcmeClient client, string chainPem, CancellationToken cancellationToken)
    {
        var directory = await client.GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        if (directory.RenewalInfo is null)
        {
            return null;
        }

        using var deadline = new CancellationTokenSource(s_renewalInfoTimeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            using var leaf = X509Certificate2.CreateFromPem(chainPem);
            var info = await client.GetRenewalInfoAsync(leaf, timeout.Token).ConfigureAwait(false);
            return info?.PickRenewalTime(random);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or AcmeProblemException or AcmeProtocolException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The certificate is issued; a missing ARI answer only means the default renewal window.
            Log.RenewalInfoFailed(_logger, ex);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Removing the DNS-01 TXT record {Name} failed; remove it by hand if it stays.")]
        public static partial void CleanupFailed(ILogger logger, string name, Exception exception);

        [LoggerMessage(2, LogLevel.Warning, "The CA rate-limited the order for {Subject}: {Detail} Paused for {RetryAfter}.")]
        public static partial void RateLimited(ILogger logger, string subject, string? detail, TimeSpan retryAfter);

        [LoggerMessage(3, LogLevel.Information, "The CA refused 'replaces' for {Hostname} ({Problem}); ordering without it.")]
        public static partial void ReplacesRefused(ILogger logger, string hostname, string problem);

        [LoggerMessage(4, LogLevel.Warning, "Reading ACME renewal information failed; using the default renewal window.")]
        public static partial void RenewalInfoFailed(ILogger logger, Exception exception);

        [LoggerMessage(6, LogLevel.Information, "Resuming the order {Order} for {Hostname}: the CA has it {Status}, so {Decision}.")]
        public static partial void Resumed(ILogger logger, string hostname, string order, string status, AcmeOrderResumption decision);

        [LoggerMessage(7, LogLevel.Information, "The unfinished order {Order} for {Hostname} cannot be resumed ({Why}); ordering afresh.")]
        public static partial void ResumeSkipped(ILogger logger, string hostname, string order, string why);
    }
}
