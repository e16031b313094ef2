using System.Collections.Concurrent;

namespace Sndctl.Provisioning.Dns.Internal;

/// <summary>
/// Zone IDs by name, kept for the process; names found not to be zones are remembered for ten
/// minutes (a zone added later is seen then), at most 10,000 of them (device names are many).
/// Shared source: compiled into each DNS provider package.
/// </summary>
internal sealed class DnsZoneCache(TimeProvider time)
{
    private static readonly TimeSpan NegativeLifetime = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<string, string> _zones = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _notZones = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The candidate zone names of a record name, longest first (never the top-level label alone).</summary>
    public static IEnumerable<string> Candidates(string recordName)
    {
        var labels = recordName.TrimEnd('.').ToLowerInvariant().Split('.');
        for (var i = 0; i < labels.Length - 1; i++)
        {
            yield return string.Join('.', labels[i..]);
        }
    }

    /// <summary>True when the answer is known: <paramref name="zoneId"/> is the zone, or null for "not a zone".</summary>
    public bool TryGet(string name, out string? zoneId)
    {
        if (_zones.TryGetValue(name, out var id))
        {
            zoneId = id;
            return true;
        }

        zoneId = null;
        return _notZones.TryGetValue(name, out var until) && until > time.GetUtcNow();
    }

    public void Set(string name, string? zoneId)
    {
        if (zoneId is not null)
        {
            _zones[name] = zoneId;
            return;
        }

        if (_notZones.Count >= 10_000)
        {
            _notZones.Clear();
        }

        _notZones[name] = time.GetUtcNow() + NegativeLifetime;
    }

    /// <summary>
    /// The longest candidate of <paramref name="recordName"/> that <paramref name="lookup"/> says is a
    /// zone (its ID), asking only about names not cached; null when none is.
    /// </summary>
    public async Task<string?> FindAsync(string recordName, Func<string, CancellationToken, Task<string?>> lookup, CancellationToken cancellationToken)
    {
        foreach (var candidate in Candidates(recordName))
        {
            if (!TryGet(candidate, out var zoneId))
            {
                zoneId = await lookup(candidate, cancellationToken).ConfigureAwait(false);
                Set(candidate, zoneId);
            }

            if (zoneId is not null)
            {
                return zoneId;
            }
        }

        return null;
    }
}
