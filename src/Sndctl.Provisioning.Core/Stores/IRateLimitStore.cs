namespace Sndctl.Provisioning.Core;

/// <summary>
/// "At most N per window" counters kept in the store, so a limit holds across every instance that
/// shares it. Each key is one cell of a generic cell-rate algorithm: one timestamp per key, updated in
/// one atomic statement, so a burst of N is allowed and then one every window / N.
/// </summary>
public interface IRateLimitStore
{
    /// <summary>Takes one permit of <paramref name="key"/> if fewer than <paramref name="limit"/> were taken in the last <paramref name="window"/> before <paramref name="now"/>.</summary>
    /// <returns>Null when the permit was taken; otherwise how long until one frees up.</returns>
    Task<TimeSpan?> TryAcquireAsync(string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Forgets keys whose windows ended before <paramref name="now"/> (they would allow a full burst anyway); returns how many.</summary>
    Task<int> PurgeAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
