using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// The issuance journal as two tables. Orphaned DNS records are found in one statement that compares
/// each entry with its device's lease by the database server's clock, like the leases themselves.
/// </summary>
internal sealed class EfIssuanceJournalStore<TContext>(TContext context) : IIssuanceJournalStore
    where TContext : DbContext
{
    // Compiled: read at the start of every issuance. Tracked: a resumed issuance updates it.
    private static readonly CompiledQuery<TContext, string, PendingIssuance?> s_findPending = new(
        (db, deviceId, _) => db.Set<PendingIssuance>().FirstOrDefault(p => p.DeviceId == deviceId));

    private DbSet<PendingIssuance> Pending => context.Set<PendingIssuance>();

    private DbSet<DnsRecordJournalEntry> Records => context.Set<DnsRecordJournalEntry>();

    public Task<PendingIssuance?> FindPendingAsync(string deviceId, CancellationToken cancellationToken)
        => s_findPending.ExecuteAsync(context, deviceId, cancellationToken);

    public async Task SavePendingAsync(PendingIssuance pending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        var tracked = context.ChangeTracker.Entries<PendingIssuance>().FirstOrDefault(e => e.Entity.DeviceId == pending.DeviceId);
        if (tracked is null || !ReferenceEquals(tracked.Entity, pending))
        {
            // A new issuance replaces the device's earlier one (the caller holds the device's lease).
            if (tracked is not null)
            {
                tracked.State = EntityState.Detached;
                await Pending.Where(p => p.DeviceId == pending.DeviceId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            }

            Pending.Add(pending);
            try
            {
                await SqliteWriteGate.SaveChangesGatedAsync(context, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (DbUpdateException)
            {
                // An earlier one this context never saw: replace it (one statement more, only then).
                context.Entry(pending).State = EntityState.Detached;
                await Pending.Where(p => p.DeviceId == pending.DeviceId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
                Pending.Add(pending);
            }
        }

        await SqliteWriteGate.SaveChangesGatedAsync(context, cancellationToken).ConfigureAwait(false);
    }

    public async Task CompleteAsync(DeviceCertificate certificate, Device device, AuditEvent issued, PendingIssuance? pending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(issued);

        // One SaveChanges, one transaction: the certificate, the device pointing at it, the event, and
        // the unfinished issuance gone (when it was ever written).
        var pendingEntry = pending is null ? null
            : context.ChangeTracker.Entries<PendingIssuance>().FirstOrDefault(e => e.Entity.DeviceId == device.DeviceId);
        var pendingState = pendingEntry?.State;
        pendingEntry?.State = EntityState.Deleted;
        context.Add(certificate);
        context.Add(issued);
        var deviceEntry = context.Update(device);
        var stamp = deviceEntry.Property(d => d.ConcurrencyStamp);
        var previousStamp = stamp.CurrentValue;
        stamp.OriginalValue = previousStamp;
        stamp.CurrentValue = Guid.NewGuid();
        var saved = false;
        try
        {
            await SqliteWriteGate.SaveChangesGatedAsync(context, cancellationToken).ConfigureAwait(false);
            saved = true;
        }
        catch (DbUpdateConcurrencyException ex)
        {
            throw new ConcurrencyConflictException($"Device '{device.DeviceId}' was changed or deleted by someone else.", ex);
        }
        finally
        {
            context.Entry(certificate).State = EntityState.Detached;
            context.Entry(issued).State = EntityState.Detached;
            deviceEntry.State = EntityState.Detached;
            if (!saved)
            {
                device.ConcurrencyStamp = previousStamp;
                pendingEntry?.State = pendingState!.Value;
            }
        }

        if (pending is not null && pendingEntry is null)
        {
            // Not loaded by this context (another scope began it): remove it by key.
            await Pending.Where(p => p.DeviceId == device.DeviceId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task RemovePendingAsync(string deviceId, CancellationToken cancellationToken)
    {
        foreach (var tracked in context.ChangeTracker.Entries<PendingIssuance>().Where(e => e.Entity.DeviceId == deviceId).ToList())
        {
            tracked.State = EntityState.Detached;
        }

        await Pending.Where(p => p.DeviceId == deviceId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task AddDnsRecordAsync(DnsRecordJournalEntry entry, CancellationToken cancellationToken)
    {
        Records.Add(entry);
        await SqliteWriteGate.SaveChangesGatedAsync(context, cancellationToken).ConfigureAwait(false);
    }

    public async Task UpdateDnsRecordAsync(DnsRecordJournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await Records.Where(e => e.Id == entry.Id)
            .ExecuteUpdateAsync(set => set.SetProperty(e => e.ProviderId, entry.ProviderId), cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveDnsRecordAsync(Guid id, CancellationToken cancellationToken)
    {
        foreach (var tracked in context.ChangeTracker.Entries<DnsRecordJournalEntry>().Where(e => e.Entity.Id == id).ToList())
        {
            tracked.State = EntityState.Detached;
        }

        await Records.Where(e => e.Id == id).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DnsRecordJournalEntry>> ListDnsRecordsAsync(string deviceId, CancellationToken cancellationToken)
        => await Records.AsNoTracking().Where(e => e.DeviceId == deviceId).OrderBy(e => e.CreatedAt).ToListAsync(cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<string>> ListDevicesWithOrphanedDnsRecordsAsync(int max, CancellationToken cancellationToken)
    {
        var (records, recordColumn) = SqlNames.Of<DnsRecordJournalEntry>(context);
        var (leases, leaseColumn) = SqlNames.Of<IssuanceLease>(context);
        var now = context.Database.ProviderName switch
        {
            SqlNames.PostgreSqlProvider => "now()",
            SqlNames.SqliteProvider => "strftime('%Y-%m-%d %H:%M:%f', 'now')",
            var other => throw new NotSupportedException($"The issuance journal supports SQLite and PostgreSQL, not '{other}'."),
        };
        var device = recordColumn(nameof(DnsRecordJournalEntry.DeviceId));
        var sql = $"""
            SELECT DISTINCT j.{device} AS "Value" FROM {records} j
            WHERE NOT EXISTS (
                SELECT 1 FROM {leases} l
                WHERE l.{leaseColumn(nameof(IssuanceLease.DeviceId))} = j.{device}
                  AND l.{leaseColumn(nameof(IssuanceLease.Holder))} = j.{recordColumn(nameof(DnsRecordJournalEntry.Holder))}
                  AND l.{leaseColumn(nameof(IssuanceLease.ExpiresAt))} > {now})
            LIMIT {"{0}"}
            """;
        return await context.Database.SqlQueryRaw<string>(sql, max).ToListAsync(cancellationToken).ConfigureAwait(false);
    }
}
