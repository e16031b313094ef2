namespace Sndctl.Provisioning.Core;

/// <summary>
/// What an <see cref="ICertificateIssuer"/> writes down while it issues, so that a process that dies in
/// the middle loses nothing: the CA's reference to the work (for ACME, the order URL) so that the next
/// attempt resumes it, and every DNS record before it is created so that a janitor can remove the ones
/// their issuance never cleaned up. The provisioning core hands one to each issuance
/// (<see cref="CertificateIssueRequest.Journal"/>); it writes to the database.
/// </summary>
public interface IIssuanceJournal
{
    /// <summary>
    /// The reference an earlier attempt of this issuance saved and never finished (for ACME, the order
    /// URL), or <see langword="null"/>. The request's CSR is the one that attempt used.
    /// </summary>
    string? ResumeFrom { get; }

    /// <summary>Saves the CA's reference to this issuance, before the CA is asked to do anything irrevocable with it.</summary>
    Task SaveReferenceAsync(string reference, CancellationToken cancellationToken);

    /// <summary>Records a TXT value that is about to be created at <paramref name="name"/>; returns the entry's ID.</summary>
    Task<Guid> DnsRecordCreatingAsync(string name, string value, CancellationToken cancellationToken);

    /// <summary>Adds the provider's handle to the entry once the record exists.</summary>
    Task DnsRecordCreatedAsync(Guid entryId, DnsTxtRecord record, CancellationToken cancellationToken);

    /// <summary>Clears the entry once the record is removed.</summary>
    Task DnsRecordRemovedAsync(Guid entryId, CancellationToken cancellationToken);
}
