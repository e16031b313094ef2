using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

internal sealed class EfAuditEventStore<TContext>(TContext context) : IAuditEventStore
    where TContext : DbContext
{
    public Task AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
        => context.AddDetachedAsync(auditEvent, cancellationToken);

    public Task<int> PurgeBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
        => context.Set<AuditEvent>().Where(e => e.Timestamp < before).ExecuteDeleteAsync(cancellationToken);

    public async Task<Page<AuditEvent>> ListAsync(string? deviceId, int page, int pageSize, CancellationToken cancellationToken)
    {
        var events = context.Set<AuditEvent>().AsNoTracking();
        if (deviceId is not null)
        {
            events = events.Where(e => e.DeviceId == deviceId);
        }

        var total = await events.CountAsync(cancellationToken).ConfigureAwait(false);
        var items = await events.OrderByDescending(e => e.Id).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken).ConfigureAwait(false);
        return new Page<AuditEvent>(items, total, page, pageSize);
    }

    public async Task<IReadOnlyList<AuditEvent>> ListAfterAsync(long afterId, DateTimeOffset writtenBefore, int max, CancellationToken cancellationToken)
        => await context.Set<AuditEvent>().AsNoTracking()
            .Where(e => e.Id > afterId && e.Timestamp < writtenBefore)
            .OrderBy(e => e.Id)
            .Take(max)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
}
