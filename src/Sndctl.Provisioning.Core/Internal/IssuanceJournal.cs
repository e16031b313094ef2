namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// One issuance's journal (<see cref="IIssuanceJournal"/>) over the issuance's own store. The issuer may
/// call it from concurrent authorizations; the store (one DbContext) is used by one call at a time.
/// </summary>
internal sealed class IssuanceJournal(IIssuanceJournalStore store, PendingIssuance pending, string holder, TimeProvider time)
    : IIssuanceJournal, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<Guid, DnsRecordJournalEntry> _entries = [];

    public string? ResumeFrom { get; } = pending.IssuerReference;

    public Task SaveReferenceAsync(string reference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        return WithStoreAsync(
            () =>
            {
                pending.IssuerReference = reference;
                return store.SavePendingAsync(pending, cancellationToken);
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
            () =>
            {
                _entries[entry.Id] = entry;
                return store.AddDnsRecordAsync(entry, cancellationToken);
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
