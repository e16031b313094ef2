namespace Sndctl.Provisioning.Core;

/// <summary>
/// New certificates waiting for a CA budget, first come first served, shared by every instance. An entry
/// lives while its device is expected back (<c>expectedBy</c>, renewed each time it asks); a device that does
/// not come back loses its place instead of holding up everyone behind it.
/// </summary>
public interface IIssuanceQueueStore
{
    /// <summary>
    /// Puts <paramref name="subject"/> (a hostname) in the queue of <paramref name="bucket"/> unless it is there
    /// (then it keeps its place), sets when it is expected back, and returns its position (1 = next) among
    /// the live entries.
    /// </summary>
    Task<int> EnterAsync(string subject, string bucket, DateTimeOffset now, DateTimeOffset expectedBy, CancellationToken cancellationToken);

    /// <summary>How many live entries of <paramref name="bucket"/> are ahead of <paramref name="subject"/> (all of them when it is not queued).</summary>
    Task<int> AheadAsync(string subject, string bucket, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The number of live entries of <paramref name="bucket"/>.</summary>
    Task<int> CountAsync(string bucket, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Takes <paramref name="subject"/> out of the queue (its certificate is being issued).</summary>
    Task RemoveAsync(string subject, CancellationToken cancellationToken);
}
