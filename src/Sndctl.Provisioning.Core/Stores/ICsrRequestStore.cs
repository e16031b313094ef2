namespace Sndctl.Provisioning.Core;

/// <summary>Persists the private CA's CSR requests.</summary>
public interface ICsrRequestStore
{
    /// <summary>Adds a new request.</summary>
    Task AddAsync(CsrRequest request, CancellationToken cancellationToken);

    /// <summary>Finds a request by ID.</summary>
    Task<CsrRequest?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>A page of requests, newest first, optionally of one status.</summary>
    Task<Page<CsrRequest>> ListAsync(CsrRequestStatus? status, int page, int pageSize, CancellationToken cancellationToken);

    /// <summary>Saves a decision or a revocation.</summary>
    /// <exception cref="ConcurrencyConflictException">Someone else changed it first.</exception>
    Task UpdateAsync(CsrRequest request, CancellationToken cancellationToken);

    /// <summary>How many requests from <paramref name="clientNetwork"/> wait for an admin.</summary>
    Task<int> CountPendingAsync(string clientNetwork, CancellationToken cancellationToken);

    /// <summary>The newest request whose CSR has this SHA-256 (<see cref="CsrRequest.CsrSha256"/>), or <see langword="null"/>.</summary>
    Task<CsrRequest?> FindByCsrAsync(string csrSha256, CancellationToken cancellationToken);

    /// <summary>Deletes denied requests decided before <paramref name="before"/>; returns how many.</summary>
    Task<int> PurgeDeniedAsync(DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes approved requests whose certificate expired before <paramref name="notAfterBefore"/> (revoked
    /// ones too: an expired certificate leaves its CRL); returns how many.
    /// </summary>
    Task<int> PurgeExpiredAsync(DateTimeOffset notAfterBefore, CancellationToken cancellationToken);

    /// <summary>
    /// Denies, with <paramref name="message"/>, the requests still waiting for an administrator that were
    /// submitted before <paramref name="submittedBefore"/>, dropping their CSR text; returns how many.
    /// </summary>
    Task<int> ExpirePendingAsync(DateTimeOffset submittedBefore, string message, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Serial numbers and revocation times of the revoked certificates of one type, for its CRL.</summary>
    Task<IReadOnlyList<(string SerialNumber, DateTimeOffset RevokedAt)>> ListRevokedAsync(CsrCertificateType type, CancellationToken cancellationToken);
}
