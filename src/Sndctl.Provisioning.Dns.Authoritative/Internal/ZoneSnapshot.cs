using System.Net;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// The zone's records from the database at one moment, immutable, indexed by lower-case name: what every
/// query is answered from (no query touches the database).
/// </summary>
internal sealed class ZoneSnapshot
{
    private readonly Dictionary<string, NameRecords> _byName;
    private readonly HashSet<string> _covered;

    private ZoneSnapshot(Dictionary<string, NameRecords> byName, HashSet<string> covered, (int Count, long MaxId) version, uint serial)
    {
        _byName = byName;
        _covered = covered;
        Version = version;
        Serial = serial;
    }

    /// <summary>The store version the snapshot was read at (see <see cref="IZoneRecordStore.GetVersionAsync"/>).</summary>
    public (int Count, long MaxId) Version { get; }

    /// <summary>The SOA serial: grows with every snapshot that differs from the one before.</summary>
    public uint Serial { get; }

    public int RecordCount => Version.Count;

    public static ZoneSnapshot Build(IReadOnlyList<ZoneRecord> records, uint serial)
    {
        var byName = new Dictionary<string, NameRecords>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            var name = record.Name.ToLowerInvariant();
            if (!byName.TryGetValue(name, out var set))
            {
                byName[name] = set = new NameRecords();
            }

            set.Add(record);
        }

        return Create(byName, (records.Count, records.Count == 0 ? 0 : records.Max(r => r.Id)), serial);
    }

    /// <summary>
    /// This snapshot with the records at one name replaced by <paramref name="records"/> (read from the
    /// database after this instance changed them), at <paramref name="version"/>: the version the store has
    /// if no other instance changed anything meanwhile (if one did, the next version check finds the store
    /// elsewhere and reads the whole zone). Costs a copy of the index, not a read of every record.
    /// </summary>
    public ZoneSnapshot With(string name, IReadOnlyList<ZoneRecord> records, (int Count, long MaxId) version, uint serial)
    {
        var byName = new Dictionary<string, NameRecords>(_byName, StringComparer.Ordinal);
        if (records.Count == 0)
        {
            byName.Remove(name);
        }
        else
        {
            var set = new NameRecords();
            foreach (var record in records)
            {
                set.Add(record);
            }

            byName[name] = set;
        }

        return Create(byName, version, serial);
    }

    private static ZoneSnapshot Create(Dictionary<string, NameRecords> byName, (int Count, long MaxId) version, uint serial)
    {

        // Every name with records and every name above one (an empty non-terminal exists too): a query for a
        // name that is in neither is NXDOMAIN, answered with one hash lookup whatever the zone's size.
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in byName.Keys)
        {
            for (var at = name; covered.Add(at) && at.IndexOf('.', StringComparison.Ordinal) is var dot and >= 0; at = at[(dot + 1)..])
            {
            }
        }

        return new ZoneSnapshot(byName, covered, version, serial);
    }

    /// <summary>The records at <paramref name="name"/> (lower case), or <see langword="null"/>.</summary>
    public NameRecords? At(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Whether some record's name is <paramref name="name"/> or lies below it (an empty non-terminal exists too).</summary>
    public bool Covers(string name) => _covered.Contains(name);

    internal sealed class NameRecords
    {
        public void Add(ZoneRecord record)
        {
            switch (record.Type)
            {
                case "A" or "AAAA" when IPAddress.TryParse(record.Value, out var address):
                    Addresses.Add(address);
                    break;
                case "TXT":
                    Txt.Add(record.Value);
                    break;
            }
        }

        public List<IPAddress> Addresses { get; } = [];

        public List<string> Txt { get; } = [];
    }
}
