namespace Sndctl.Provisioning.Storage.EfCore.Internal;

internal sealed class IssuerStateEntry
{
    public required string Key { get; init; }
    public required string Value { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class IssuanceLease
{
    public required string DeviceId { get; init; }
    public required string Holder { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

internal sealed class RateLimitCounter
{
    public required string Key { get; init; }

    /// <summary>The generic cell-rate algorithm's theoretical arrival time, in Unix milliseconds.</summary>
    public long TheoreticalArrival { get; set; }
}

/// <summary>
/// One entry of the zone's change log: the names one transaction changed (joined by line feeds), and which instance
/// (<see cref="ZoneChangeSource"/>) wrote it, so that the others re-read those names (<see cref="EfZoneRecordStore{TContext}"/>).
/// </summary>
internal sealed class ZoneChange
{
    /// <summary>Grows with every entry; on PostgreSQL entries commit in this order (the writers take a lock first).</summary>
    public long Id { get; set; }

    public required string Source { get; init; }

    public DateTimeOffset ChangedAt { get; init; }

    public required string Names { get; init; }
}

internal sealed class IssuanceQueueEntry
{
    /// <summary>Grows with every entry and is never reused: the queue's order (first come, first served).</summary>
    public long Id { get; set; }

    public required string Subject { get; init; }
    public required string Bucket { get; init; }
    public bool ServerMadeKey { get; set; }
    public DateTimeOffset EnqueuedAt { get; set; }

    /// <summary>The entry lives until then: when its device was told to come back, plus a grace period.</summary>
    public DateTimeOffset ExpectedBy { get; set; }

    /// <summary>From then (its turn) an entry without a server-made key holds a slot ahead of those behind it.</summary>
    public DateTimeOffset HoldsFrom { get; set; }

    /// <summary>Until then (its turn plus a claim window) it does.</summary>
    public DateTimeOffset HoldsUntil { get; set; }
}
