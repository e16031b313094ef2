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

    /// <summary>Gives back one permit taken with <see cref="TryAcquireAsync"/> that was not used after all (the work it was for failed).</summary>
    Task ReturnAsync(string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Takes every permit of <paramref name="key"/> until <paramref name="until"/> (the counted party said "no" earlier than this count expected).</summary>
    Task ExhaustAsync(string key, int limit, TimeSpan window, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>How many permits of <paramref name="key"/> are taken at <paramref name="now"/>, and when the next one frees (now when one is free).</summary>
    Task<(int Used, DateTimeOffset NextAt)> PeekAsync(string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Forgets keys whose windows ended before <paramref name="now"/> (they would allow a full burst anyway); returns how many.</summary>
    Task<int> PurgeAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
