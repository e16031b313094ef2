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
