using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

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
    public const int MaxMetadataEntries = 32;
    public const int MaxMetadataKeyLength = 64;
    public const int MaxMetadataValueLength = 256;
    private const string WaitingMessage = "Waiting for an administrator to approve the request; poll GET /api/v1/csr/{request_id}.";
    private static readonly TimeSpan s_rateWindow = TimeSpan.FromMinutes(1);

    public async Task<CsrRequest> SubmitAsync(CsrSubmission submission, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(submission);
        try
        {
            var request = await SubmitCoreAsync(submission, cancellationToken).ConfigureAwait(false);
            metrics.Submitted(request.Status.ToString().ToLowerInvariant());
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

    private async Task<CsrRequest> SubmitCoreAsync(CsrSubmission submission, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var clientAddress = submission.ClientAddress;
        var network = clientAddress is null ? null : ClientNetwork.KeyOf(clientAddress);
        var o = options.CurrentValue;

        // Counted first, even when the input turns out bad: a client cannot probe the checks at full speed.
        if (network is not null && o.PostsPerMinute > 0
            && await rateLimits.TryAcquireAsync("csr:" + network, o.PostsPerMinute, s_rateWindow, now, cancellationToken).ConfigureAwait(false) is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            throw new CsrSubmissionLimitedException(
                $"Too many CSR submissions from this address: at most {o.PostsPerMinute} per minute are accepted (the limit is per client address); try again in {seconds} s. The request was not stored. Checking a request's status is not limited.",
                wait,
                tooManyPending: false);
        }

        CheckInput(submission);
        var check = CsrPolicy.Check(submission.Content);
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
        return request;
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

        // Stored as JSON, where escaping can make a value six times longer: refuse what would not fit
        // the column here, before anything is signed, rather than fail in the database.
        if (System.Text.Json.JsonSerializer.Serialize(submission.Metadata).Length > CsrRequest.MaxMetadataJsonLength)
        {
            throw new CsrRejectedException($"metadata is too large once stored: at most {CsrRequest.MaxMetadataJsonLength} characters of JSON (characters such as quotes and non-ASCII letters count six times).");
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

        var check = CsrPolicy.Check(request.CsrPem);
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
            throw new InvalidOperationException(request.RevokedAt is not null
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
            throw new InvalidOperationException($"{id} is {request.Status.ToString().ToLowerInvariant()} already: only a pending request can be approved or denied.");
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
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + ipAddress), publicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var usage = publicKey.Oid.Value == "1.2.840.113549.1.1.1" ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.DigitalSignature;
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CaCertificates.ServerAuthOid)], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Parse(ipAddress));
        request.CertificateExtensions.Add(san.Build());
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
