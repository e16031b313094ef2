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

            switch (record.Type)
            {
                case "A" or "AAAA" when IPAddress.TryParse(record.Value, out var address):
                    set.Addresses.Add(address);
                    break;
                case "TXT":
                    set.Txt.Add(record.Value);
                    break;
            }
        }

        // Every name with records and every name above one (an empty non-terminal exists too): a query for a
        // name that is in neither is NXDOMAIN, answered with one hash lookup whatever the zone's size.
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in byName.Keys)
        {
            for (var at = name; covered.Add(at) && at.IndexOf('.', StringComparison.Ordinal) is var dot and >= 0; at = at[(dot + 1)..])
            {
            }
        }

        return new ZoneSnapshot(byName, covered, (records.Count, records.Count == 0 ? 0 : records.Max(r => r.Id)), serial);
    }

    /// <summary>The records at <paramref name="name"/> (lower case), or <see langword="null"/>.</summary>
    public NameRecords? At(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Whether some record's name is <paramref name="name"/> or lies below it (an empty non-terminal exists too).</summary>
    public bool Covers(string name) => _covered.Contains(name);

    internal sealed class NameRecords
    {
        public List<IPAddress> Addresses { get; } = [];

        public List<string> Txt { get; } = [];
    }
}
