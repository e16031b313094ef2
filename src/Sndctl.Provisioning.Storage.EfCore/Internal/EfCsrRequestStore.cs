using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

internal sealed class EfCsrRequestStore<TContext>(TContext context) : ICsrRequestStore
    where TContext : DbContext
{
    private DbSet<CsrRequest> Requests => context.Set<CsrRequest>();

    public Task AddAsync(CsrRequest request, CancellationToken cancellationToken)
        => context.AddDetachedAsync(request, cancellationToken);

    public Task<CsrRequest?> FindAsync(string id, CancellationToken cancellationToken)
        => Requests.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken);

    public async Task<Page<CsrRequest>> ListAsync(CsrRequestStatus? status, int page, int pageSize, CancellationToken cancellationToken)
    {
        var requests = Requests.AsNoTracking();
        if (status is { } wanted)
        {
            requests = requests.Where(r => r.Status == wanted);
        }

        var total = await requests.CountAsync(cancellationToken).ConfigureAwait(false);
        var items = await requests.OrderByDescending(r => r.SubmittedAt).ThenBy(r => r.Id).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken).ConfigureAwait(false);
        return new Page<CsrRequest>(items, total, page, pageSize);
    }

    public async Task UpdateAsync(CsrRequest request, CancellationToken cancellationToken)
        => request.ConcurrencyStamp = await context.UpdateStampedAsync(request, r => r.ConcurrencyStamp, $"CSR request {request.Id} was changed by someone else.", cancellationToken).ConfigureAwait(false);

    public Task<int> CountPendingAsync(string clientNetwork, CancellationToken cancellationToken)
        => Requests.CountAsync(r => r.ClientNetwork == clientNetwork && r.Status == CsrRequestStatus.Pending, cancellationToken);

    public Task<CsrRequest?> FindByCsrAsync(string csrSha256, CancellationToken cancellationToken)
        => Requests.AsNoTracking().Where(r => r.CsrSha256 == csrSha256).OrderByDescending(r => r.SubmittedAt).FirstOrDefaultAsync(cancellationToken);

    public Task<int> PurgeDeniedAsync(DateTimeOffset before, CancellationToken cancellationToken)
        => Requests.Where(r => r.Status == CsrRequestStatus.Denied && r.DecidedAt < before).ExecuteDeleteAsync(cancellationToken);

    public Task<int> PurgeExpiredAsync(DateTimeOffset notAfterBefore, CancellationToken cancellationToken)
        => Requests.Where(r => r.Status == CsrRequestStatus.Approved && r.NotAfter < notAfterBefore).ExecuteDeleteAsync(cancellationToken);

    public Task<int> ExpirePendingAsync(DateTimeOffset submittedBefore, string message, DateTimeOffset now, CancellationToken cancellationToken)
        => Requests.Where(r => r.Status == CsrRequestStatus.Pending && r.SubmittedAt < submittedBefore)
            .ExecuteUpdateAsync(
                s => s.SetProperty(r => r.Status, CsrRequestStatus.Denied)
                    .SetProperty(r => r.Message, message)
                    .SetProperty(r => r.DecidedAt, now)
                    .SetProperty(r => r.DecidedBy, "policy")
                    .SetProperty(r => r.CsrPem, (string?)null)
                    .SetProperty(r => r.ConcurrencyStamp, Guid.NewGuid()),
                cancellationToken);

    public async Task<IReadOnlyList<(string SerialNumber, DateTimeOffset RevokedAt)>> ListRevokedAsync(CsrCertificateType type, CancellationToken cancellationToken)
    {
        var revoked = await Requests.AsNoTracking()
            .Where(r => r.Type == type && r.RevokedAt != null && r.SerialNumber != null)
            .Select(r => new { r.SerialNumber, r.RevokedAt })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. revoked.Select(r => (r.SerialNumber!, r.RevokedAt!.Value))];
    }
}
