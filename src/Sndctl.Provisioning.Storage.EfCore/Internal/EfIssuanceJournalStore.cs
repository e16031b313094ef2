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

    // The completing transaction's statements (every issuance runs them).
    // The device's issuance fields only (what IIssuanceJournalStore.CompleteAsync saves): every index holding a column in
    // the SET list is rewritten by SQLite, changed or not, and most of the device's indexes hold none of these.
    private static readonly OwnStatement s_updateDevice = OwnStatement.UpdateGuarded<Device>(
        nameof(Device.CurrentCertificateId), nameof(Device.CurrentCertificateNotAfter), nameof(Device.RegisteredAt), nameof(Device.LastSeenAt), nameof(Device.Status));
    private static readonly OwnStatement s_insertCertificate = OwnStatement.Insert<DeviceCertificate>();
    private static readonly OwnStatement s_insertEvent = OwnStatement.Insert<AuditEvent>(generated: nameof(AuditEvent.Id));
    private static readonly OwnStatement s_deletePending = new(context =>
    {
        var (table, column) = SqlNames.Of<PendingIssuance>(context);
        return new OwnStatement.Text($"DELETE FROM {table} WHERE {column(nameof(PendingIssuance.DeviceId))} = @p0", [default]);
    });

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

        // One transaction: the device pointing at the certificate (only while it is the row the caller read), the
        // certificate, the event, and the unfinished issuance gone (when it was ever written). Statements of our own:
        // this is every issuance's write, and SaveChanges' change tracking cost more than the statements.
        var previousStamp = device.ConcurrencyStamp;
        device.ConcurrencyStamp = Guid.NewGuid();
        var saved = false;
        try
        {
            await OwnStatement.WriteAsync(
                context,
                transaction: true,
                async runner =>
                {
                    if (await runner.RunAsync(s_updateDevice, device, cancellationToken, previousStamp).ConfigureAwait(false) == 0)
                    {
                        throw new ConcurrencyConflictException($"Device '{device.DeviceId}' was changed or deleted by someone else.");
                    }

                    await runner.RunAsync(s_insertCertificate, certificate, cancellationToken).ConfigureAwait(false);
                    await runner.RunAsync(s_insertEvent, issued, cancellationToken).ConfigureAwait(false);
                    if (pending is not null)
                    {
                        await runner.RunAsync(s_deletePending, null, cancellationToken, device.DeviceId).ConfigureAwait(false);
                    }

                    return true;
                },
                cancellationToken).ConfigureAwait(false);
            saved = true;
        }
        finally
        {
            if (!saved)
            {
                device.ConcurrencyStamp = previousStamp;
            }
        }

        if (pending is not null)
        {
            // Gone from the table: a copy this context tracks (it began the issuance) must not be saved again.
            foreach (var tracked in context.ChangeTracker.Entries<PendingIssuance>().Where(e => e.Entity.DeviceId == device.DeviceId).ToList())
            {
                tracked.State = EntityState.Detached;
            }
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
