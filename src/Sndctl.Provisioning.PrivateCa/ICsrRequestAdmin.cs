using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa;

/// <summary>The admin side of the private-IP CSR service, for admin front ends (the API endpoints and the portal use it).</summary>
public interface ICsrRequestAdmin
{
    /// <summary>A page of requests, newest first, optionally of one status.</summary>
    Task<Page<CsrRequest>> ListAsync(CsrRequestStatus? status, int page, int pageSize, CancellationToken cancellationToken);

    /// <summary>Signs a pending request; null when it does not exist.</summary>
    /// <exception cref="InvalidOperationException">It is not pending.</exception>
    Task<CsrRequest?> ApproveAsync(string id, string actor, CancellationToken cancellationToken);

    /// <summary>Denies a pending request with a reason the client sees; null when it does not exist.</summary>
    /// <exception cref="InvalidOperationException">It is not pending.</exception>
    Task<CsrRequest?> DenyAsync(string id, string reason, string actor, CancellationToken cancellationToken);

    /// <summary>Revokes an approved request's certificate; null when it does not exist.</summary>
    /// <exception cref="InvalidOperationException">It has no certificate, or it is revoked already.</exception>
    Task<CsrRequest?> RevokeAsync(string id, string actor, CancellationToken cancellationToken);
}
