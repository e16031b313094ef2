using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

internal sealed class EfIssuanceQueueStore<TContext>(TContext context) : IIssuanceQueueStore
    where TContext : DbContext
{
    private DbSet<IssuanceQueueEntry> Entries => context.Set<IssuanceQueueEntry>();

    public async Task<int> EnterAsync(string subject, string bucket, bool serverMadeKey, DateTimeOffset now, DateTimeOffset holdsFrom, DateTimeOffset holdsUntil, DateTimeOffset expectedBy, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var entry = await Entries.FirstOrDefaultAsync(e => e.Subject == subject, cancellationToken).ConfigureAwait(false);
            try
            {
                if (entry is null)
                {
                    entry = new IssuanceQueueEntry { Subject = subject, Bucket = bucket, ServerMadeKey = serverMadeKey, EnqueuedAt = now, ExpectedBy = expectedBy, HoldsFrom = holdsFrom, HoldsUntil = holdsUntil };
                    Entries.Add(entry);
                }
                else if (entry.ExpectedBy < now || entry.Bucket != bucket)
                {
                    // It did not come back in time (or waits for another budget now): to the back of the queue.
                    Entries.Remove(entry);
                    await SqliteWriteGate.SaveChangesGatedAsync(context, cancellationToken).ConfigureAwait(false);
                    context.Entry(entry).State = EntityState.Detached;
                    entry = new IssuanceQueueEntry { Subject = subject, Bucket = bucket, ServerMadeKey = serverMadeKey, EnqueuedAt = now, ExpectedBy = expectedBy, HoldsFrom = holdsFrom, HoldsUntil = holdsUntil };
                    Entries.Add(entry);
                }
                else
                {
                    entry.ExpectedBy = entry.ExpectedBy < expectedBy ? expectedBy : entry.ExpectedBy;
                    entry.ServerMadeKey = serverMadeKey; // the device's latest call decides (it may have started sending a CSR)
                    entry.HoldsFrom = holdsFrom;
                    entry.HoldsUntil = holdsUntil;
                }

                await SqliteWriteGate.SaveChangesGatedAsync(context, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                // Another instance queued the same device at the same moment: read its entry.
                context.ChangeTracker.Clear();
            }
            finally
            {
                if (entry is not null)
                {
                    context.Entry(entry).State = EntityState.Detached;
                }
            }
        }

        // Its place in line among the live entries (those holding a slot or not).
        var live = Entries.Where(e => e.Bucket == bucket && e.ExpectedBy >= now);
        var id = await live.Where(e => e.Subject == subject).Select(e => e.Id).FirstAsync(cancellationToken).ConfigureAwait(false);
        return await live.CountAsync(e => e.Id < id, cancellationToken).ConfigureAwait(false) + 1;
    }

    public async Task<int> AheadAsync(string subject, string bucket, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var live = Entries.Where(e => e.Bucket == bucket && e.ExpectedBy >= now);
        var mine = await live.AsNoTracking().Where(e => e.Subject == subject).Select(e => (long?)e.Id).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        var holding = live.Where(e => e.ServerMadeKey || (e.HoldsFrom <= now && e.HoldsUntil >= now));
        return mine is not { } id
            ? await holding.CountAsync(cancellationToken).ConfigureAwait(false)
            : await holding.CountAsync(e => e.Id < id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<QueuedIssuance>> ListAsync(string bucket, DateTimeOffset now, int max, CancellationToken cancellationToken)
        => await Entries.AsNoTracking().Where(e => e.Bucket == bucket && e.ExpectedBy >= now).OrderBy(e => e.Id).Take(max)
            .Select(e => new QueuedIssuance(e.Subject, e.ServerMadeKey)).ToListAsync(cancellationToken).ConfigureAwait(false);

    public Task<int> CountAsync(string bucket, DateTimeOffset now, CancellationToken cancellationToken)
        => Entries.CountAsync(e => e.Bucket == bucket && e.ExpectedBy >= now, cancellationToken);

    public Task RemoveAsync(string subject, CancellationToken cancellationToken)
        => Entries.Where(e => e.Subject == subject).ExecuteDeleteAsync(cancellationToken);
}
