namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// One issuance's journal (<see cref="IIssuanceJournal"/>) over the issuance's own store. The issuer may
/// call it from concurrent authorizations; the store (one DbContext) is used by one call at a time.
/// The pending issuance is written at the first thing the issuer journals (an ACME order, a DNS
/// record), not before: an issuer that has nothing outside the process to lose (the private CA, which
/// signs in memory) costs no journal write at all.
/// </summary>
internal sealed class IssuanceJournal(IIssuanceJournalStore store, PendingIssuance pending, bool persisted, string holder, TimeProvider time)
    : IIssuanceJournal, IDisposable
{
    /// <summary>The pending issuance is in the store (resumed, or written by this journal).</summary>
    public bool Persisted { get; private set; } = persisted;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<Guid, DnsRecordJournalEntry> _entries = [];

    public string? ResumeFrom { get; } = pending.IssuerReference;

    public Task SaveReferenceAsync(string reference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        return WithStoreAsync(
            async () =>
            {
                pending.IssuerReference = reference;
                await store.SavePendingAsync(pending, cancellationToken).ConfigureAwait(false);
                Persisted = true;
            },
            cancellationToken);
    }

    public async Task<Guid> DnsRecordCreatingAsync(string name, string value, CancellationToken cancellationToken)
    {
        var entry = new DnsRecordJournalEntry
        {
            Id = Guid.NewGuid(),
            DeviceId = pending.DeviceId,
            Holder = holder,
            Name = name,
            Value = value,
            CreatedAt = time.GetUtcNow(),
        };
        await WithStoreAsync(
            async () =>
            {
                if (!Persisted)
                {
                    await store.SavePendingAsync(pending, cancellationToken).ConfigureAwait(false);
                    Persisted = true;
                }

                _entries[entry.Id] = entry;
                await store.AddDnsRecordAsync(entry, cancellationToken).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        return entry.Id;
    }

    public Task DnsRecordCreatedAsync(Guid entryId, DnsTxtRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return WithStoreAsync(
            () =>
            {
                var entry = _entries[entryId];
                entry.ProviderId = record.ProviderId;
                return store.UpdateDnsRecordAsync(entry, cancellationToken);
            },
            cancellationToken);
    }

    public Task DnsRecordRemovedAsync(Guid entryId, CancellationToken cancellationToken)
        => WithStoreAsync(
            () =>
            {
                _entries.Remove(entryId);
                return store.RemoveDnsRecordAsync(entryId, cancellationToken);
            },
            cancellationToken);

    private async Task WithStoreAsync(Func<Task> write, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await write().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
