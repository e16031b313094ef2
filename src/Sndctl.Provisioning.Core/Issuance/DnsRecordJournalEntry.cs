namespace Sndctl.Provisioning.Core;

/// <summary>
/// A DNS record an issuance is creating or has created and not yet removed. Its owner is the issuance
/// of <see cref="DeviceId"/> under the lease held by <see cref="Holder"/>: once that lease is no longer
/// held by that holder, nobody will remove the record but the janitor.
/// </summary>
public sealed class DnsRecordJournalEntry
{
    /// <summary>The entry's ID.</summary>
    public Guid Id { get; init; }

    /// <summary>The device whose issuance created the record.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The issuance lease holder that created the record.</summary>
    public required string Holder { get; init; }

    /// <summary>Fully qualified record name.</summary>
    public required string Name { get; init; }

    /// <summary>The TXT value.</summary>
    public required string Value { get; init; }

    /// <summary>The provider's identifier for the record once it exists (<see cref="DnsTxtRecord.ProviderId"/>).</summary>
    public string? ProviderId { get; set; }

    /// <summary>When the entry was written (before the record was created).</summary>
    public DateTimeOffset CreatedAt { get; init; }
}
