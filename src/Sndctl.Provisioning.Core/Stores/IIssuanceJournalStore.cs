namespace Sndctl.Provisioning.Core;

/// <summary>
/// The issuance journal: issuances under way (<see cref="PendingIssuance"/>) and the DNS records they
/// created (<see cref="DnsRecordJournalEntry"/>), shared by every instance on one database.
/// </summary>
public interface IIssuanceJournalStore
{
    /// <summary>The device's unfinished issuance, or <see langword="null"/>.</summary>
    Task<PendingIssuance?> FindPendingAsync(string deviceId, CancellationToken cancellationToken);

    /// <summary>Stores the device's unfinished issuance, replacing any earlier one; saves <see cref="PendingIssuance.IssuerReference"/> changes too.</summary>
    Task SavePendingAsync(PendingIssuance pending, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the device's issuance in one transaction: adds <paramref name="certificate"/>, saves
    /// <paramref name="device"/>'s issuance fields (<see cref="Device.CurrentCertificateId"/>,
    /// <see cref="Device.CurrentCertificateNotAfter"/>, <see cref="Device.RegisteredAt"/>, <see cref="Device.LastSeenAt"/>,
    /// <see cref="Device.Status"/>: pointing at it; compare-and-swap on its concurrency stamp, which is renewed; a store may
    /// save the whole device, its other fields being those it read), appends <paramref name="issued"/> and removes <paramref name="pending"/> when the
    /// issuance was written to the store (<see langword="null"/>: it never was). On
    /// <see cref="ConcurrencyConflictException"/> (the device changed or is gone) nothing is written.
    /// </summary>
    Task CompleteAsync(DeviceCertificate certificate, Device device, AuditEvent issued, PendingIssuance? pending, CancellationToken cancellationToken);

    /// <summary>Forgets the device's unfinished issuance (it ended).</summary>
    Task RemovePendingAsync(string deviceId, CancellationToken cancellationToken);

    /// <summary>Adds an entry.</summary>
    Task AddDnsRecordAsync(DnsRecordJournalEntry entry, CancellationToken cancellationToken);

    /// <summary>Saves the entry's <see cref="DnsRecordJournalEntry.ProviderId"/>.</summary>
    Task UpdateDnsRecordAsync(DnsRecordJournalEntry entry, CancellationToken cancellationToken);

    /// <summary>Removes an entry; an entry that is gone counts as removed.</summary>
    Task RemoveDnsRecordAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>The device's entries, oldest first.</summary>
    Task<IReadOnlyList<DnsRecordJournalEntry>> ListDnsRecordsAsync(string deviceId, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="max"/> devices that have entries whose owner is gone: the device's issuance
    /// lease is not held by the entry's holder (expired, released or taken by another), judged by the
    /// store's own clock like the leases.
    /// </summary>
    Task<IReadOnlyList<string>> ListDevicesWithOrphanedDnsRecordsAsync(int max, CancellationToken cancellationToken);
}
