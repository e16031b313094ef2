namespace Sndctl.Provisioning.Core;

/// <summary>
/// New certificates waiting for a CA budget, first come first served, shared by every instance. An entry
/// lives while its device is expected back (<c>expectedBy</c>, renewed each time it asks); a device that does
/// not come back loses its place instead of holding up everyone behind it. An entry whose certificate the server
/// cannot issue without its device (the device keeps its key) holds a slot ahead of those behind it only while
/// its device is expected (<c>holdsFrom</c> to <c>holdsUntil</c>: its turn and a claim window after it); otherwise
/// it keeps its place, but free slots go to devices that can use them, so devices that never come back cannot
/// block the queue.
/// </summary>
public interface IIssuanceQueueStore
{
    /// <summary>
    /// Puts <paramref name="subject"/> (a hostname) in the queue of <paramref name="bucket"/> unless it is there
    /// (then it keeps its place), sets when it is expected back, and returns its position (1 = next) among
    /// the live entries.
    /// </summary>
    /// <param name="subject">The hostname.</param>
    /// <param name="bucket">The budget it waits for (the registered domain).</param>
    /// <param name="serverMadeKey">Whether the server makes the device's key, so it can issue without the device.</param>
    /// <param name="now">The time.</param>
    /// <param name="holdsFrom">From when an entry without <paramref name="serverMadeKey"/> holds a slot ahead of those behind it (its turn).</param>
    /// <param name="holdsUntil">Until when it does (its turn plus a claim window).</param>
    /// <param name="expectedBy">Until when the entry lives unless the device asks again.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<int> EnterAsync(string subject, string bucket, bool serverMadeKey, DateTimeOffset now, DateTimeOffset holdsFrom, DateTimeOffset holdsUntil, DateTimeOffset expectedBy, CancellationToken cancellationToken);

    /// <summary>The first <paramref name="max"/> live entries of <paramref name="bucket"/>, in queue order.</summary>
    Task<IReadOnlyList<QueuedIssuance>> ListAsync(string bucket, DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>
    /// How many live entries of <paramref name="bucket"/> that hold a slot now (their key is the server's, or
    /// <paramref name="now"/> is within their <c>holdsFrom</c>..<c>holdsUntil</c>) are ahead of <paramref name="subject"/>
    /// (all of them when it is not queued): a free slot is this one's when fewer hold ahead of it than slots are free.
    /// </summary>
    Task<int> AheadAsync(string subject, string bucket, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The number of live entries of <paramref name="bucket"/>.</summary>
    Task<int> CountAsync(string bucket, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Takes <paramref name="subject"/> out of the queue (its certificate is being issued).</summary>
    Task RemoveAsync(string subject, CancellationToken cancellationToken);
}

/// <summary>One queued issuance: the hostname, and whether the server makes its key (and can issue without the device).</summary>
/// <param name="Subject">The hostname.</param>
/// <param name="ServerMadeKey">Whether the server makes the device's key.</param>
public sealed record QueuedIssuance(string Subject, bool ServerMadeKey);
