namespace Sndctl.Provisioning.Dns.Cloudflare.Internal;

/// <summary>
/// The token's zones (name and ID), listed once and kept for the process, so an issuance costs only its two record
/// calls. Listed again when no zone holds a name (a zone added since, at most once a minute) or when Cloudflare says
/// a zone is gone (<see cref="Forget"/>).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A singleton for the life of the process.")]
internal sealed class CloudflareZones(TimeProvider time)
{
    private static readonly TimeSpan RelistAfter = TimeSpan.FromMinutes(1);
    private readonly SemaphoreSlim _listing = new(1, 1);
    private volatile Listed? _listed;

    /// <summary>The ID of the longest zone holding <paramref name="recordName"/>; <paramref name="list"/> lists the zones when needed.</summary>
    public async Task<string?> FindAsync(string recordName, Func<CancellationToken, Task<IReadOnlyList<(string Name, string Id)>>> list, CancellationToken cancellationToken)
    {
        var listed = _listed;
        if (listed is not null && Match(listed.Zones, recordName) is { } known)
        {
            return known;
        }

        await _listing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have listed meanwhile; list again only without a list, or an old one that missed.
            listed = _listed;
            if (listed is null || (Match(listed.Zones, recordName) is null && time.GetUtcNow() - listed.At >= RelistAfter))
            {
                listed = new Listed(await list(cancellationToken).ConfigureAwait(false), time.GetUtcNow());
                _listed = listed;
            }

            return Match(listed.Zones, recordName);
        }
        finally
        {
            _listing.Release();
        }
    }

    /// <summary>A zone ID was refused as unknown: the next lookup lists the zones again.</summary>
    public void Forget() => _listed = null;

    private static string? Match(IReadOnlyList<(string Name, string Id)> zones, string recordName)
    {
        var name = recordName.TrimEnd('.');
        string? best = null;
        var bestLength = -1;
        foreach (var (zone, id) in zones)
        {
            if ((name.Equals(zone, StringComparison.OrdinalIgnoreCase) || name.EndsWith("." + zone, StringComparison.OrdinalIgnoreCase)) && zone.Length > bestLength)
            {
                (best, bestLength) = (id, zone.Length);
            }
        }

        return best;
    }

    private sealed record Listed(IReadOnlyList<(string Name, string Id)> Zones, DateTimeOffset At);
}
