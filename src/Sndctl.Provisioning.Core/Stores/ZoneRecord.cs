namespace Sndctl.Provisioning.Core;

/// <summary>
/// One resource record of the fleet zone, for a DNS server that answers the zone from the database
/// (the embedded authoritative server): a device's A/AAAA record or an ACME DNS-01 TXT record.
/// </summary>
public sealed class ZoneRecord
{
    /// <summary>Store-assigned; grows with every record added, never reused.</summary>
    public long Id { get; set; }

    /// <summary>The owner name, fully qualified, lower case, without the trailing dot.</summary>
    public required string Name { get; init; }

    /// <summary>The record type: <c>A</c>, <c>AAAA</c> or <c>TXT</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The record data: the address text, or the TXT value.</summary>
    public required string Value { get; init; }

    /// <summary>When the record was added.</summary>
    public DateTimeOffset CreatedAt { get; init; }
}
