using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// The private-IP CSR service: submit (policy, then sign at once or wait for an admin), status,
/// approve, deny, revoke. A request is stored only once its outcome is known, so a failure to sign
/// (503) leaves nothing half-done.
/// </summary>
internal sealed partial class PrivateCsrService(
    ICsrRequestStore store,
    IAuditEventStore audit,
    CertificateAuthority authority,
    CsrRevocationLists crls,
    IOptionsMonitor<PrivateCaOptions> options,
    TimeProvider time,
    ILogger<PrivateCsrService> logger) : ICsrRequestAdmin
{
    public const string PolicyActor = "policy";
    private const string WaitingMessage = "Waiting for an administrator to approve the request; poll GET /api/v1/csr/{request_id}.";

    public async Task<CsrRequest> SubmitAsync(string pem, CsrCheck check, CsrCertificateType type, IDictionary<string, string> metadata, System.Net.IPAddress? clientAddress, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var network = clientAddress is null ? null : ClientNetwork.KeyOf(clientAddress);
        var o = options.CurrentValue;
        if (check.DenialReason is null && o.Approval == CsrApproval.Manual && network is not null
            && await store.CountPendingAsync(network, cancellationToken) >= o.MaxPendingPerClient)
        {
            throw new TooManyPendingException($"{o.MaxPendingPerClient} requests from this address already wait for an administrator; submit again once they are decided (poll GET /api/v1/csr/{{request_id}}).");
        }

        var request = new CsrRequest
        {
            Id = "csr_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            Type = type,
            CsrPem = pem,
            IpAddress = check.Address?.ToString(),
            Metadata = metadata,
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
            await SignAsync(request, check.PublicKey!, PolicyActor, cancellationToken);
        }

        await store.AddAsync(request, cancellationToken);
        Log.Submitted(logger, request.Id, CsrTypes.Name(type), request.IpAddress ?? "-", request.Status, request.ClientAddress ?? "-");
        return request;
    }

    public Task<CsrRequest?> FindAsync(string id, CancellationToken cancellationToken) => store.FindAsync(id, cancellationToken);

    public Task<Page<CsrRequest>> ListAsync(CsrRequestStatus? status, int page, int pageSize, CancellationToken cancellationToken)
        => store.ListAsync(status, page, pageSize, cancellationToken);

    /// <summary>Signs a pending request. Null when it does not exist; throws <see cref="InvalidOperationException"/> when it is not pending.</summary>
    public async Task<CsrRequest?> ApproveAsync(string id, string actor, CancellationToken cancellationToken)
    {
        var request = await PendingAsync(id, cancellationToken);
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
            await SignAsync(request, check.PublicKey, actor, cancellationToken);
        }

        await store.UpdateAsync(request, cancellationToken);
        await AuditAsync(actor, AuditEventTypes.CsrApproved, request, cancellationToken);
        return request;
    }

    public async Task<CsrRequest?> DenyAsync(string id, string reason, string actor, CancellationToken cancellationToken)
    {
        var request = await PendingAsync(id, cancellationToken);
        if (request is null)
        {
            return null;
        }

        Decide(request, CsrRequestStatus.Denied, "Denied by an administrator: " + reason, actor, time.GetUtcNow());
        await store.UpdateAsync(request, cancellationToken);
        await AuditAsync(actor, AuditEventTypes.CsrDenied, request, cancellationToken);
        return request;
    }

    /// <summary>Revokes an approved request's certificate and remakes its CRL.</summary>
    public async Task<CsrRequest?> RevokeAsync(string id, string actor, CancellationToken cancellationToken)
    {
        var request = await store.FindAsync(id, cancellationToken);
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
        await store.UpdateAsync(request, cancellationToken);
        crls.Invalidate(request.Type);
        await AuditAsync(actor, AuditEventTypes.CsrRevoked, request, cancellationToken);
        return request;
    }

    private async Task<CsrRequest?> PendingAsync(string id, CancellationToken cancellationToken)
    {
        var request = await store.FindAsync(id, cancellationToken);
        if (request is not null && request.Status != CsrRequestStatus.Pending)
        {
            throw new InvalidOperationException($"{id} is {request.Status.ToString().ToLowerInvariant()} already: only a pending request can be approved or denied.");
        }

        return request;
    }

    private async Task SignAsync(CsrRequest request, PublicKey publicKey, string actor, CancellationToken cancellationToken)
    {
        var issuer = await authority.GetCsrIssuerAsync(request.Type, cancellationToken);
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
