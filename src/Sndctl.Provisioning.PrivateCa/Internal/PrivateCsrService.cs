using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Internal;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// The private-IP CSR service: submit (rate, input limits, policy, then sign at once or wait for an
/// admin), status, approve, deny, revoke. A request is stored only once its outcome is known, so a
/// failure to sign leaves nothing half-done.
/// </summary>
internal sealed partial class PrivateCsrService(
    ICsrRequestStore store,
    IRateLimitStore rateLimits,
    IAuditEventStore audit,
    CertificateAuthority authority,
    CsrRevocationLists crls,
    IOptionsMonitor<PrivateCaOptions> options,
    TimeProvider time,
    CsrMetrics metrics,
    ILogger<PrivateCsrService> logger) : ICsrService
{
    public const string PolicyActor = "policy";
    public const int MaxMetadataEntries = 16;
    public const int MaxMetadataKeyLength = 64;
    public const int MaxMetadataValueLength = 256;
    private const string WaitingMessage = "Waiting for an administrator to approve the request; poll GET /api/v1/csr/{request_id}.";
    private static readonly TimeSpan s_rateWindow = TimeSpan.FromMinutes(1);

    public async Task<CsrRequest> SubmitAsync(CsrSubmission submission, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(submission);
        try
        {
            var (request, repeated) = await SubmitCoreAsync(submission, cancellationToken).ConfigureAwait(false);
            metrics.Submitted(repeated ? "repeated" : request.Status.ToString().ToLowerInvariant());
            return request;
        }
        catch (CsrSubmissionLimitedException)
        {
            metrics.Submitted("limited");
            throw;
        }
        catch (CsrRejectedException)
        {
            metrics.Submitted("rejected");
            throw;
        }
    }

    private async Task<(CsrRequest Request, bool Repeated)> SubmitCoreAsync(CsrSubmission submission, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var clientAddress = submission.ClientAddress;
        var network = clientAddress is null ? null : ClientNetwork.KeyOf(clientAddress);
        var o = options.CurrentValue;

        // What costs nothing comes first: sizes, then the PEM's DER and its hash (nothing is parsed yet).
        CheckInput(submission);
        if (!Pkcs10Request.TryDecodePem(submission.Content, out var der, out var pemError))
        {
            throw new CsrRejectedException("content: " + pemError);
        }

        // The same CSR again (a client retrying, or replaying) is answered with its request: no new row.
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(der));
        if (await store.FindByCsrAsync(sha256, cancellationToken).ConfigureAwait(false) is { } existing && StillAnswers(existing, now, o))
        {
            return (existing, true);
        }

        // The limits are decided before anything is written: a refused POST reads, never writes. Counted
        // before the policy runs, even when the input turns out bad: a client cannot probe the checks at full speed.
        await AcquireAsync(clientAddress, network, o, now, cancellationToken).ConfigureAwait(false);

        var check = CsrPolicy.Check(der);
        if (check.MalformedReason is { } malformed)
        {
            throw new CsrRejectedException(malformed);
        }

        if (check.DenialReason is null && o.Approval == CsrApproval.Manual && network is not null
            && await store.CountPendingAsync(network, cancellationToken).ConfigureAwait(false) >= o.MaxPendingPerClient)
        {
            throw new CsrSubmissionLimitedException(
                $"{o.MaxPendingPerClient} requests from this address already wait for an administrator; submit again once they are decided (poll GET /api/v1/csr/{{request_id}}).",
                s_rateWindow,
                tooManyPending: true);
        }

        var request = new CsrRequest
        {
            Id = "csr_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            Type = submission.Type,
            CsrPem = submission.Content,
            CsrSha256 = sha256,
            IpAddress = check.Address?.ToString(),
            Metadata = new Dictionary<string, string>(submission.Metadata),
            ClientAddress = clientAddress?.ToString(),
            ClientNetwork = network,
            SubmittedAt = now,
        };

        if (check.DenialReason is { } reason)
        {
            Decide(request, CsrRequestStatus.Denied, reason, PolicyActor, now);
        }
        else if (o.Approval == CsrApproval.Manual)
        {
            request.Status = CsrRequestStatus.Pending;
            request.Message = WaitingMessage;
        }
        else
        {
            await SignAsync(request, check.PublicKey!, PolicyActor, cancellationToken).ConfigureAwait(false);
        }

        await store.AddAsync(request, cancellationToken).ConfigureAwait(false);
        Log.Submitted(logger, request.Id, CsrTypes.Name(request.Type), request.IpAddress ?? "-", request.Status, request.ClientAddress ?? "-");
        return (request, false);
    }

    /// <summary>
    /// Whether a request made from the same CSR is still the answer to it: while it waits or its denial is kept,
    /// and while its certificate is good and not yet in its last third (then the same CSR renews: an RSA CSR
    /// signed again with the same key is byte for byte the same).
    /// </summary>
    private static bool StillAnswers(CsrRequest existing, DateTimeOffset now, PrivateCaOptions o) => existing.Status switch
    {
        CsrRequestStatus.Pending or CsrRequestStatus.Denied => true,
        CsrRequestStatus.Approved => existing.RevokedAt is null && existing.NotAfter is { } notAfter && now < notAfter - (o.CsrCertificateLifetime / 3),
        _ => false,
    };

    /// <summary>
    /// Takes a permit of the client address's limit and of its site's (/24, /48), or throws the 429. Both are
    /// read first, so a refused client causes no write; a race lost at the write is a 429 too.
    /// </summary>
    private async Task AcquireAsync(System.Net.IPAddress? clientAddress, string? network, PrivateCaOptions o, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (clientAddress is null || network is null)
        {
            return;
        }

        var limits = new List<(string Key, int Limit, string What)>(2);
        if (o.PostsPerMinute > 0)
        {
            limits.Add(("csr:" + network, o.PostsPerMinute, $"at most {o.PostsPerMinute} per minute are accepted from one client address"));
        }

        if (o.NetworkPostsPerMinute > 0)
        {
            limits.Add(("csr-site:" + ClientNetwork.SiteKeyOf(clientAddress), o.NetworkPostsPerMinute, $"at most {o.NetworkPostsPerMinute} per minute are accepted from one network (IPv4 /24, IPv6 /48)"));
        }

        foreach (var (key, limit, what) in limits)
        {
            var (used, nextAt) = await rateLimits.PeekAsync(key, limit, s_rateWindow, now, cancellationToken).ConfigureAwait(false);
            if (used >= limit)
            {
                throw Limited(what, nextAt - now);
            }
        }

        var taken = new List<(string Key, int Limit)>(limits.Count);
        foreach (var (key, limit, what) in limits)
        {
            if (await rateLimits.TryAcquireAsync(key, limit, s_rateWindow, now, cancellationToken).ConfigureAwait(false) is { } wait)
            {
                foreach (var (back, backLimit) in taken)
                {
                    await rateLimits.ReturnAsync(back, backLimit, s_rateWindow, now, cancellationToken).ConfigureAwait(false);
                }

                throw Limited(what, wait);
            }

            taken.Add((key, limit));
        }

        static CsrSubmissionLimitedException Limited(string what, TimeSpan wait)
        {
            wait = wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait;
            return new CsrSubmissionLimitedException(
                $"Too many CSR submissions: {what}; try again in {(int)Math.Ceiling(wait.TotalSeconds)} s. The request was not stored. Checking a request's status is not limited.",
                wait,
                tooManyPending: false);
        }
    }

    public Task<CsrRequest?> FindAsync(string id, CancellationToken cancellationToken)
        => id.Length <= 64 ? store.FindAsync(id, cancellationToken) : Task.FromResult<CsrRequest?>(null);

    /// <summary>The limits on what is stored with a request, checked before anything is signed.</summary>
    private static void CheckInput(CsrSubmission submission)
    {
        if (string.IsNullOrEmpty(submission.Content))
        {
            throw new CsrRejectedException("content is missing: put the PEM CSR (-----BEGIN CERTIFICATE REQUEST-----...) in it.");
        }

        if (submission.Content.Length > CsrPolicy.MaxContentLength)
        {
            throw new CsrRejectedException($"content is {submission.Content.Length} characters; at most {CsrPolicy.MaxContentLength} are accepted.");
        }

        foreach (var (key, value) in submission.Metadata)
        {
            if (key.Length is 0 or > MaxMetadataKeyLength || value is null || value.Length > MaxMetadataValueLength)
            {
                var shown = key.Length > MaxMetadataKeyLength ? key[..MaxMetadataKeyLength] + "…" : key;
                throw new CsrRejectedException($"metadata '{shown}': keys are 1 to {MaxMetadataKeyLength} characters, values strings of at most {MaxMetadataValueLength}.");
            }
        }

        if (submission.Metadata.Count > MaxMetadataEntries)
        {
            throw new CsrRejectedException($"metadata has {submission.Metadata.Count} entries; at most {MaxMetadataEntries} are accepted.");
        }

        // Stored as JSON, where escaping can make a value six times longer: what a request keeps is bounded
        // by its stored size, checked here before anything is signed rather than in the database.
        if (System.Text.Json.JsonSerializer.Serialize(submission.Metadata).Length > CsrRequest.MaxSubmittedMetadataJsonLength)
        {
            throw new CsrRejectedException($"metadata is too large once stored: at most {CsrRequest.MaxSubmittedMetadataJsonLength} characters of JSON (characters such as quotes and non-ASCII letters count six times).");
        }
    }

    public Task<Page<CsrRequest>> ListAsync(CsrRequestStatus? status, int page, int pageSize, CancellationToken cancellationToken)
        => store.ListAsync(status, page, pageSize, cancellationToken);

    public async Task<CsrRequest?> ApproveAsync(string id, string actor, CancellationToken cancellationToken)
    {
        var request = await PendingAsync(id, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return null;
        }

        var check = CsrPolicy.Check(request.CsrPem ?? string.Empty);
        if (check.PublicKey is null)
        {
            Decide(request, CsrRequestStatus.Denied, check.DenialReason ?? check.MalformedReason ?? "The CSR no longer passes the policy.", PolicyActor, time.GetUtcNow());
        }
        else
        {
            await SignAsync(request, check.PublicKey, actor, cancellationToken).ConfigureAwait(false);
        }

        await store.UpdateAsync(request, cancellationToken).ConfigureAwait(false);
        await AuditAsync(actor, AuditEventTypes.CsrApproved, request, cancellationToken).ConfigureAwait(false);
        return request;
    }

    public async Task<CsrRequest?> DenyAsync(string id, string reason, string actor, CancellationToken cancellationToken)
    {
        var request = await PendingAsync(id, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return null;
        }

        Decide(request, CsrRequestStatus.Denied, "Denied by an administrator: " + reason, actor, time.GetUtcNow());
        await store.UpdateAsync(request, cancellationToken).ConfigureAwait(false);
        await AuditAsync(actor, AuditEventTypes.CsrDenied, request, cancellationToken).ConfigureAwait(false);
        return request;
    }

    public async Task<CsrRequest?> RevokeAsync(string id, string actor, CancellationToken cancellationToken)
    {
        var request = await store.FindAsync(id, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return null;
        }

        if (request.Status != CsrRequestStatus.Approved || request.RevokedAt is not null)
        {
            throw new CsrStateConflictException(request.RevokedAt is not null
                ? $"The certificate of {id} was revoked already at {request.RevokedAt:O}."
                : $"{id} is {request.Status.ToString().ToLowerInvariant()}: only an approved request has a certificate to revoke.");
        }

        request.RevokedAt = time.GetUtcNow();
        await store.UpdateAsync(request, cancellationToken).ConfigureAwait(false);
        crls.Invalidate(request.Type);
        await AuditAsync(actor, AuditEventTypes.CsrRevoked, request, cancellationToken).ConfigureAwait(false);
        return request;
    }

    private async Task<CsrRequest?> PendingAsync(string id, CancellationToken cancellationToken)
    {
        var request = await store.FindAsync(id, cancellationToken).ConfigureAwait(false);
        if (request is not null && request.Status != CsrRequestStatus.Pending)
        {
            throw new CsrStateConflictException($"{id} is {request.Status.ToString().ToLowerInvariant()} already: only a pending request can be approved or denied.");
        }

        return request;
    }

    private async Task SignAsync(CsrRequest request, PublicKey publicKey, string actor, CancellationToken cancellationToken)
    {
        var issuer = await authority.GetCsrIssuerAsync(request.Type, cancellationToken).ConfigureAwait(false);
        var o = options.CurrentValue;
        var now = time.GetUtcNow();
        var notAfter = now + o.CsrCertificateLifetime;
        if (notAfter > issuer.Issuer.NotAfter)
        {
            notAfter = issuer.Issuer.NotAfter;
        }

        var crl = o.CrlBaseUrl is { } baseUrl ? CsrRevocationLists.Url(baseUrl, request.Type) : null;
        using var leaf = issuer.Sign(BuildLeaf(request.IpAddress!, publicKey, issuer.Issuer, crl), now - o.Backdate, notAfter, CaCertificates.NewSerialNumber());
        request.CertificatePem = leaf.ExportCertificatePem() + "\n" + issuer.IssuerPem;
        request.SerialNumber = leaf.SerialNumber;
        request.NotAfter = leaf.NotAfter.ToUniversalTime();
        Decide(request, CsrRequestStatus.Approved, $"Certificate issued for {request.IpAddress}, valid until {notAfter:yyyy-MM-dd}.", actor, now);
    }

    internal static CertificateRequest BuildLeaf(string ipAddress, PublicKey publicKey, X509Certificate2 issuer, Uri? crl)
    {
        // No CN: the address is in the subjectAltName alone (then critical, RFC 5280 §4.2.1.6), which lets the
        // issuing CA exclude every DNS name (OpenSSL would check a CN as a DNS name).
        var request = new CertificateRequest(new X500DistinguishedName(string.Empty), publicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var usage = publicKey.Oid.Value == "1.2.840.113549.1.1.1" ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.DigitalSignature;
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CaCertificates.ServerAuthOid)], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Parse(ipAddress));
        request.CertificateExtensions.Add(san.Build(critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(publicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        if (crl is not null)
        {
            request.CertificateExtensions.Add(CertificateRevocationListBuilder.BuildCrlDistributionPointExtension([crl.AbsoluteUri]));
        }

        return request;
    }

    private static void Decide(CsrRequest request, CsrRequestStatus status, string message, string actor, DateTimeOffset now)
    {
        // Decided: the CSR text is no longer needed (its hash still answers a repeat).
        request.CsrPem = null;
        request.Status = status;
        request.Message = message;
        request.DecidedAt = now;
        request.DecidedBy = actor;
    }

    private Task AuditAsync(string actor, string type, CsrRequest request, CancellationToken cancellationToken)
        => audit.AppendAsync(new AuditEvent { Timestamp = time.GetUtcNow(), Actor = actor, Type = type, Details = $"{request.Id} {CsrTypes.Name(request.Type)} {request.IpAddress} {request.SerialNumber}".TrimEnd() }, cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "CSR {RequestId} ({Type}, {IpAddress}) from {ClientAddress}: {Status}.")]
        public static partial void Submitted(ILogger logger, string requestId, string type, string ipAddress, CsrRequestStatus status, string clientAddress);
    }
}
