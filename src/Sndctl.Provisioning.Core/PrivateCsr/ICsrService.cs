namespace Sndctl.Provisioning.Core;

/// <summary>
/// The private-IP CSR service: submit, status, and the admin's approve, deny and revoke. It runs the
/// whole policy itself (submission rate, input limits, the CSR checks), so every front end (the HTTP
/// endpoints, the portal, an app's own code) gets the same answers.
/// </summary>
public interface ICsrService
{
    /// <summary>
    /// Submits a CSR: counts it against the client network's submission rate, checks the input and the
    /// policy, then signs at once (automatic approval), keeps it pending for an admin (manual approval)
    /// or stores the denial with its reason. A request is stored only once its outcome is known.
    /// </summary>
    /// <exception cref="CsrRejectedException">Not a CSR, or input the service does not store (the caller's mistake).</exception>
    /// <exception cref="CsrSubmissionLimitedException">Too many submissions, or too many waiting requests, from the client's network.</exception>
    /// <exception cref="CertificateAuthorityUnavailableException">The CA cannot sign now.</exception>
    Task<CsrRequest> SubmitAsync(CsrSubmission submission, CancellationToken cancellationToken);

    /// <summary>A request by ID; null when there is none.</summary>
    Task<CsrRequest?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>A page of requests, newest first, optionally of one status.</summary>
    Task<Page<CsrRequest>> ListAsync(CsrRequestStatus? status, int page, int pageSize, CancellationToken cancellationToken);

    /// <summary>Signs a pending request; null when it does not exist.</summary>
    /// <exception cref="CsrStateConflictException">It is not pending.</exception>
    /// <exception cref="ConcurrencyConflictException">Someone else decided it at the same time.</exception>
    /// <exception cref="CertificateAuthorityUnavailableException">The CA cannot sign now.</exception>
    Task<CsrRequest?> ApproveAsync(string id, string actor, CancellationToken cancellationToken);

    /// <summary>Denies a pending request with a reason the client sees; null when it does not exist.</summary>
    /// <exception cref="CsrStateConflictException">It is not pending.</exception>
    /// <exception cref="ConcurrencyConflictException">Someone else decided it at the same time.</exception>
    Task<CsrRequest?> DenyAsync(string id, string reason, string actor, CancellationToken cancellationToken);

    /// <summary>Revokes an approved request's certificate; null when it does not exist.</summary>
    /// <exception cref="CsrStateConflictException">It has no certificate, or it is revoked already.</exception>
    /// <exception cref="ConcurrencyConflictException">Someone else changed it at the same time.</exception>
    Task<CsrRequest?> RevokeAsync(string id, string actor, CancellationToken cancellationToken);
}
