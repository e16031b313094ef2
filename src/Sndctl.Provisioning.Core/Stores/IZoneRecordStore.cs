namespace Sndctl.Provisioning.Core;

/// <summary>
/// The records of the fleet zone, shared by every instance, for the embedded authoritative DNS server.
/// Records are only ever added and removed (never edited), and IDs are never reused, so the pair
/// (count, highest ID) changes whenever the set does: <see cref="GetVersionAsync"/> is how instances notice. A store
/// that keeps a log of its changes (<see cref="GetLastChangeAsync"/>) tells them which names changed instead, so that
/// an instance re-reads those names, not the whole zone.
/// </summary>
public interface IZoneRecordStore
{
    /// <summary>Every record of the zone, ordered by ID.</summary>
    Task<IReadOnlyList<ZoneRecord>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Every record of the zone, ordered by name (then ID), one at a time: how the embedded DNS server reads a large
    /// zone without holding every record as an object at once. This default sorts <see cref="ListAsync(CancellationToken)"/>;
    /// a store that can should stream them.
    /// </summary>
    async IAsyncEnumerable<ZoneRecord> StreamByNameAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var record in (await ListAsync(cancellationToken).ConfigureAwait(false)).OrderBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Id))
        {
            yield return record;
        }
    }

    /// <summary>The records at one name (lower case), ordered by ID.</summary>
    Task<IReadOnlyList<ZoneRecord>> ListAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// The records at <paramref name="names"/> (lower case), ordered by name, then ID: what an instance re-reads after
    /// other instances changed those names. This default reads them one name at a time; a store that can should read
    /// them at once.
    /// </summary>
    async Task<IReadOnlyList<ZoneRecord>> ListAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(names);
        var records = new List<ZoneRecord>();
        foreach (var name in names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            records.AddRange(await ListAsync(name, cancellationToken).ConfigureAwait(false));
        }

        return records;
    }

    /// <summary>
    /// The position of the newest change in the store's change log, 0 when it is empty; <see langword="null"/> when the
    /// store keeps no log (the default: instances then compare <see cref="GetVersionAsync"/> and read the whole zone
    /// when it moved). A store that keeps one writes, with every change of records (in the change's own transaction),
    /// the names it changed and which instance changed them; positions grow in the order changes commit (no change
    /// ever becomes visible below a position already read); entries are kept at least
    /// <see cref="ZoneChanges.Retention"/>.
    /// </summary>
    Task<long?> GetLastChangeAsync(CancellationToken cancellationToken) => Task.FromResult<long?>(null);

    /// <summary>
    /// The names other instances changed after position <paramref name="after"/> (a value of
    /// <see cref="GetLastChangeAsync"/> or of an earlier <see cref="ZoneChanges.Last"/>), reading at most
    /// <paramref name="limit"/> log entries: this instance's own changes are left out (it took them in as it wrote
    /// them), but <see cref="ZoneChanges.Last"/> moves past them too. Only for a store whose
    /// <see cref="GetLastChangeAsync"/> is not <see langword="null"/>.
    /// </summary>
    Task<ZoneChanges> ListChangesAsync(long after, int limit, CancellationToken cancellationToken)
        => throw new NotSupportedException("This zone record store keeps no change log.");

    /// <summary>Removes the change log's entries written before <paramref name="before"/>; returns how many. The default keeps no log.</summary>
    Task<int> RemoveChangesAsync(DateTimeOffset before, CancellationToken cancellationToken) => Task.FromResult(0);

    /// <summary>The number of records and the highest ID: changes whenever the set of records does.</summary>
    Task<(int Count, long MaxId)> GetVersionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The highest ID (0 when there is none): one step down an index, where <see cref="GetVersionAsync"/> counts every
    /// record. It moves with every addition (a challenge's TXT record, a device's new addresses), not with a removal
    /// alone. The default reads <see cref="GetVersionAsync"/>.
    /// </summary>
    async Task<long> GetMaxIdAsync(CancellationToken cancellationToken) => (await GetVersionAsync(cancellationToken).ConfigureAwait(false)).MaxId;

    /// <summary>Adds a record and returns its ID.</summary>
    Task<long> AddAsync(ZoneRecord record, CancellationToken cancellationToken);

    /// <summary>Removes the record with <paramref name="id"/>; <see langword="false"/> when there is none.</summary>
    Task<bool> RemoveAsync(long id, CancellationToken cancellationToken);

    /// <summary>Removes the records at <paramref name="name"/> of <paramref name="type"/> with <paramref name="value"/>; returns how many.</summary>
    Task<int> RemoveAsync(string name, string type, string value, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the records of <paramref name="types"/> at <paramref name="name"/> exactly <paramref name="records"/>,
    /// in one transaction; writes nothing when they are already those.
    /// </summary>
    /// <returns>How many records were added and removed, and the highest ID added (0 when none).</returns>
    Task<(int Added, int Removed, long MaxAddedId)> ReplaceAsync(string name, IReadOnlyCollection<string> types, IReadOnlyList<ZoneRecord> records, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="ReplaceAsync"/> for several names (each at most once) in one transaction: what the embedded DNS
    /// server does with the address changes that arrive together. This default replaces them one by one; a store
    /// that can should write them at once.
    /// </summary>
    /// <returns>How many records were added and removed in all, and the highest ID added (0 when none).</returns>
    async Task<(int Added, int Removed, long MaxAddedId)> ReplaceManyAsync(IReadOnlyList<(string Name, IReadOnlyList<ZoneRecord> Records)> changes, IReadOnlyCollection<string> types, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var (added, removed, maxId) = (0, 0, 0L);
        foreach (var (name, records) in changes)
        {
            var (a, r, m) = await ReplaceAsync(name, types, records, cancellationToken).ConfigureAwait(false);
            (added, removed, maxId) = (added + a, removed + r, Math.Max(maxId, m));
        }

        return (added, removed, maxId);
    }
}
