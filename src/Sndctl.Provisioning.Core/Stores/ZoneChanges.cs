namespace Sndctl.Provisioning.Core;

/// <summary>
/// What <see cref="IZoneRecordStore.ListChangesAsync"/> found: the names whose records other instances changed (each
/// once, lower case), and the log position read up to (the next call's <c>after</c>).
/// </summary>
/// <param name="Names">The names to read again; empty when only this instance's own changes (or none) were read.</param>
/// <param name="Last">The position of the last log entry read; the <c>after</c> given when there was none.</param>
/// <param name="More">Whether the limit cut the read short (more entries follow <paramref name="Last"/>).</param>
public sealed record ZoneChanges(IReadOnlyList<string> Names, long Last, bool More)
{
    /// <summary>
    /// How long a store keeps its change log's entries at least: an instance that could not read the log for longer
    /// than three quarters of it (a database outage) reads the whole zone again instead.
    /// </summary>
    public static TimeSpan Retention { get; } = TimeSpan.FromMinutes(10);
}
