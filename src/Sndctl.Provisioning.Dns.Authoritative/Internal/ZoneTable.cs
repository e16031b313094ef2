using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// The zone's records as this instance answers them, held in a form sized to the records: names relative to the
/// apex, spread over a fixed number of shards by hash, each shard three arrays (the entries' hashes in order, the
/// entries, and one byte blob with the names and the records' wire-format data, A as 4 bytes, AAAA as 16, TXT as its
/// character-string), so a million
/// address records are a few tens of megabytes and no object per record. Queries read it without locks: a change
/// builds the one or few shards it touches again and swaps them in (a reader sees a shard before or after, never
/// half of one). Changes are serialized by the caller (<see cref="ZoneCache"/>).
/// </summary>
internal sealed class ZoneTable
{
    private const int ShardBits = 12;
    private const int ShardCount = 1 << ShardBits;
    private const int MaxTxtLength = 255;

    private static readonly Shard EmptyShard = new([], [], []);

    private readonly Shard[] _shards;
    private readonly byte[] _suffix;
    private readonly uint _seed;
    private volatile State _state;

    private ZoneTable(string zone, Shard[] shards, State state)
    {
        Zone = zone;
        _suffix = Encoding.ASCII.GetBytes("." + zone);
        _shards = shards;
        _seed = (uint)System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue);
        _state = state;
    }

    /// <summary>The apex, lower case, without the trailing dot.</summary>
    public string Zone { get; }

    /// <summary>The store version the table holds (see <see cref="IZoneRecordStore.GetVersionAsync"/>).</summary>
    public (int Count, long MaxId) Version => _state.Version;

    /// <summary>The SOA serial: grows with every change.</summary>
    public uint Serial => _state.Serial;

    public int RecordCount => _state.Version.Count;

    /// <summary>Builds the table from every record of the zone (names outside it are never answered and are left out).</summary>
    public static ZoneTable Build(string zone, IReadOnlyList<ZoneRecord> records, uint serial)
    {
        var builder = new Builder(zone, serial);
        foreach (var record in records.OrderBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Id))
        {
            builder.Add(record);
        }

        return builder.Finish();
    }

    /// <summary>Builds the table from the zone's records ordered by name, one at a time: only one name's records are ever objects.</summary>
    public static async Task<ZoneTable> BuildAsync(string zone, IAsyncEnumerable<ZoneRecord> recordsByName, uint serial, CancellationToken cancellationToken)
    {
        var builder = new Builder(zone, serial);
        await foreach (var record in recordsByName.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            builder.Add(record);
        }

        return builder.Finish();
    }

    /// <summary>Takes records ordered by name and writes each name's straight into its shard's arrays.</summary>
    private sealed class Builder(string zone, uint serial)
    {
        private readonly ZoneTable _table = new(zone, [.. Enumerable.Repeat(EmptyShard, ShardCount)], new State((0, 0), serial));
        private readonly ShardWriter?[] _writers = new ShardWriter?[ShardCount];
        private readonly List<string> _deep = [];
        private string? _name;
        private NameData? _data;
        private int _count;
        private long _maxId;

        public void Add(ZoneRecord record)
        {
            _count++;
            _maxId = Math.Max(_maxId, record.Id);
            if (!string.Equals(record.Name, _name, StringComparison.Ordinal))
            {
                Flush();
                _name = record.Name;
                _data = _table.Relative(record.Name.ToLowerInvariant()) is { } relative ? new NameData(relative) : null;
            }

            _data?.Add(record.Type, record.Value);
        }

        public ZoneTable Finish()
        {
            Flush();
            for (var s = 0; s < ShardCount; s++)
            {
                if (_writers[s] is { } writer)
                {
                    _table._shards[s] = writer.ToShard();
                }
            }

            _table._state = new State((_count, _maxId), serial);

            // Names between a deeper name and the apex exist too (empty non-terminals): NODATA, not NXDOMAIN, for them.
            foreach (var relative in _deep)
            {
                _table.CountDescendant(relative, +1);
            }

            return _table;
        }

        private void Flush()
        {
            if (_data is not { HasRecords: true } data)
            {
                return;
            }

            if (data.Name.Contains('.', StringComparison.Ordinal))
            {
                _deep.Add(data.Name);
            }

            (_writers[_table.ShardOf(data.Name)] ??= new ShardWriter()).Append(_table, data);
        }
    }

    /// <summary>A shard's arrays while they are written.</summary>
    private sealed class ShardWriter
    {
        private readonly List<Entry> _entries = [];
        private byte[] _blob = new byte[64];
        private int _length;

        public void Append(ZoneTable table, NameData data)
        {
            var size = Encoding.UTF8.GetByteCount(data.Name) + data.DataLength;
            if (_length + size > _blob.Length)
            {
                Array.Resize(ref _blob, Math.Max(_blob.Length * 2, _length + size));
            }

            var offset = _length;
            var nameLength = Encoding.UTF8.GetBytes(data.Name, _blob.AsSpan(offset));
            var at = offset + nameLength;
            foreach (var a in data.A)
            {
                a.CopyTo(_blob, at);
                at += 4;
            }

            foreach (var aaaa in data.Aaaa)
            {
                aaaa.CopyTo(_blob, at);
                at += 16;
            }

            foreach (var text in data.Txt)
            {
                var length = Encoding.UTF8.GetBytes(text, _blob.AsSpan(at + 1));
                _blob[at] = (byte)length;
                at += 1 + length;
            }

            _entries.Add(new Entry(table.Hash(_blob.AsSpan(offset, nameLength)), offset, (byte)nameLength, (byte)data.A.Count, (byte)data.Aaaa.Count, (byte)data.Txt.Count, data.Descendants, data.Complex));
            _length = at;
        }

        /// <summary>Copies another shard's entry as it is (name and data bytes).</summary>
        public void AppendRaw(Shard shard, int index)
        {
            var entry = shard.Entries[index];
            var found = new Found(shard.Blob, entry);
            var txt = found.Txt;
            var txtLength = 0;
            for (var i = 0; i < entry.TxtCount; i++)
            {
                txtLength += 1 + txt[txtLength];
            }

            var size = entry.NameLength + (entry.ACount * 4) + (entry.AaaaCount * 16) + txtLength;
            if (_length + size > _blob.Length)
            {
                Array.Resize(ref _blob, Math.Max(_blob.Length * 2, _length + size));
            }

            shard.Blob.AsSpan(entry.Offset, size).CopyTo(_blob.AsSpan(_length));
            _entries.Add(entry with { Offset = _length });
            _length += size;
        }

        /// <summary>The entries in the order of their hashes, which a lookup searches by halves (a few hundred entries a shard at a million names).</summary>
        public Shard ToShard()
        {
            if (_entries.Count == 0)
            {
                return EmptyShard;
            }

            var entries = _entries.ToArray();
            var hashes = entries.Select(e => e.Hash).ToArray();
            Array.Sort(hashes, entries);
            return new Shard(hashes, entries, _blob.AsSpan(0, _length).ToArray());
        }
    }

    /// <summary>Makes the records at <paramref name="name"/> exactly <paramref name="records"/> (read from the store after a change there).</summary>
    public void Replace(string name, IReadOnlyList<ZoneRecord> records, (int Count, long MaxId) version, uint serial)
    {
        ReplaceAt(name, records);
        _state = new State(version, serial);
    }

    /// <summary>
    /// Makes the records at <paramref name="name"/> exactly <paramref name="records"/>, read from the store after another
    /// instance changed them: the count moves by the difference with what was there (a name outside the zone, never
    /// held, leaves it as it is), the highest ID takes theirs.
    /// </summary>
    public void Replace(string name, IReadOnlyList<ZoneRecord> records, uint serial)
    {
        var delta = ReplaceAt(name, records);
        var (count, maxId) = _state.Version;
        _state = new State((count + delta, records.Count == 0 ? maxId : Math.Max(maxId, records.Max(r => r.Id))), serial);
    }

    /// <summary>Makes the records at <paramref name="name"/> exactly <paramref name="records"/>; how many more records it holds than before.</summary>
    private int ReplaceAt(string name, IReadOnlyList<ZoneRecord> records)
    {
        var delta = 0;
        if (Relative(name) is { } relative)
        {
            Change(relative, data =>
            {
                delta = records.Count - (data.A.Count + data.Aaaa.Count + data.Txt.Count);
                data.Clear();
                foreach (var record in records)
                {
                    data.Add(record.Type, record.Value);
                }
            });
        }

        return delta;
    }

    /// <summary>Makes the A/AAAA records at <paramref name="name"/> exactly <paramref name="addresses"/>; its TXT records stay.</summary>
    public void SetAddresses(string name, IReadOnlyList<IPAddress> addresses, (int Count, long MaxId) version, uint serial)
    {
        if (Relative(name) is { } relative)
        {
            Change(relative, data =>
            {
                data.A.Clear();
                data.Aaaa.Clear();
                foreach (var address in addresses)
                {
                    data.AddAddress(address);
                }
            });
        }

        _state = new State(version, serial);
    }

    /// <summary>The records at <paramref name="name"/> (lower case, fully qualified), or <see langword="null"/>: for the general answer path.</summary>
    public ZoneNameRecords? At(string name)
    {
        if (Relative(name) is not { } relative || !TryFind(Encoding.UTF8.GetBytes(relative), out var found) || !found.HasRecords)
        {
            return null;
        }

        var records = new ZoneNameRecords();
        for (var i = 0; i < found.ACount; i++)
        {
            records.Addresses.Add(new IPAddress(found.A.Slice(i * 4, 4)));
        }

        for (var i = 0; i < found.AaaaCount; i++)
        {
            records.Addresses.Add(new IPAddress(found.Aaaa.Slice(i * 16, 16)));
        }

        foreach (var text in found.TxtValues())
        {
            records.Txt.Add(text);
        }

        return records;
    }

    /// <summary>Whether some record's name is <paramref name="name"/> or lies below it (an empty non-terminal exists too).</summary>
    public bool Covers(string name) => Relative(name) is { } relative && TryFind(Encoding.UTF8.GetBytes(relative), out _);

    /// <summary>Finds a name relative to the apex (lower case, labels joined by dots): its records, or that it exists without any.</summary>
    public bool TryFind(scoped ReadOnlySpan<byte> relative, out Found found)
    {
        var hash = Hash(relative);
        var shard = _shards[(int)(hash & (ShardCount - 1))];
        var hashes = shard.Hashes;
        var i = Array.BinarySearch(hashes, hash);
        if (i >= 0)
        {
            // Equal hashes sit together: back to the first, then forward.
            while (i > 0 && hashes[i - 1] == hash)
            {
                i--;
            }

            for (; i < hashes.Length && hashes[i] == hash; i++)
            {
                ref readonly var entry = ref shard.Entries[i];
                if (shard.Blob.AsSpan(entry.Offset, entry.NameLength).SequenceEqual(relative))
                {
                    found = new Found(shard.Blob, entry);
                    return true;
                }
            }
        }

        found = default;
        return false;
    }

    private string? Relative(string name)
    {
        if (name.Length <= _suffix.Length || !name.EndsWith(Zone, StringComparison.Ordinal) || name[^_suffix.Length] != '.')
        {
            return null;
        }

        return name[..^_suffix.Length];
    }

    private int ShardOf(string relative) => (int)(Hash(Encoding.UTF8.GetBytes(relative)) & (ShardCount - 1));

    /// <summary>FNV-1a with a per-process seed and a final mix (names are chosen by admins, queries by anyone).</summary>
    private uint Hash(ReadOnlySpan<byte> name)
    {
        var hash = 2166136261u ^ _seed;
        foreach (var b in name)
        {
            hash = (hash ^ b) * 16777619u;
        }

        hash ^= hash >> 15;
        hash *= 0x2c1b3c6dU;
        hash ^= hash >> 12;
        return hash;
    }

    /// <summary>
    /// Changes one name's records and builds its shard again: the other names' bytes are copied as they are (no
    /// object per name), so a change costs a copy of one shard (a few hundred names at a million), not a decoding of it.
    /// </summary>
    private void Change(string relative, Action<NameData> change)
    {
        var (shardIndex, index) = Locate(relative);
        var shard = _shards[shardIndex];
        var data = index >= 0 ? Decode(shard, index) : new NameData(relative);
        var had = data.HasRecords;
        change(data);
        _shards[shardIndex] = Rebuild(shard, index, data.HasRecords || data.Descendants > 0 ? data : null);
        if (had != data.HasRecords && relative.Contains('.', StringComparison.Ordinal))
        {
            // A deeper name came or went: its parents' counts follow.
            CountDescendant(relative, data.HasRecords ? +1 : -1);
        }
    }

    /// <summary>Moves the count of names with records below each parent of <paramref name="relative"/>; a parent without records or descendants goes.</summary>
    private void CountDescendant(string relative, int delta)
    {
        for (var dot = relative.IndexOf('.', StringComparison.Ordinal); dot >= 0; dot = relative.IndexOf('.', dot + 1))
        {
            var parent = relative[(dot + 1)..];
            var (shardIndex, index) = Locate(parent);
            var shard = _shards[shardIndex];
            var data = index >= 0 ? Decode(shard, index) : new NameData(parent);
            data.Descendants = Math.Max(0, data.Descendants + delta);
            _shards[shardIndex] = Rebuild(shard, index, data.HasRecords || data.Descendants > 0 ? data : null);
        }
    }

    /// <summary>The shard that holds <paramref name="relative"/> and the name's index in it (-1 when it is not there).</summary>
    private (int Shard, int Index) Locate(string relative)
    {
        var name = Encoding.UTF8.GetBytes(relative);
        var hash = Hash(name);
        var shardIndex = (int)(hash & (ShardCount - 1));
        var shard = _shards[shardIndex];
        for (var i = 0; i < shard.Entries.Length; i++)
        {
            var entry = shard.Entries[i];
            if (entry.Hash == hash && shard.Blob.AsSpan(entry.Offset, entry.NameLength).SequenceEqual(name))
            {
                return (shardIndex, i);
            }
        }

        return (shardIndex, -1);
    }

    /// <summary>One name of a shard, as an object to change.</summary>
    private static NameData Decode(Shard shard, int index)
    {
        var entry = shard.Entries[index];
        var found = new Found(shard.Blob, entry);
        var data = new NameData(Encoding.UTF8.GetString(shard.Blob, entry.Offset, entry.NameLength)) { Descendants = entry.Descendants, Complex = entry.Complex };
        for (var i = 0; i < found.ACount; i++)
        {
            data.A.Add(found.A.Slice(i * 4, 4).ToArray());
        }

        for (var i = 0; i < found.AaaaCount; i++)
        {
            data.Aaaa.Add(found.Aaaa.Slice(i * 16, 16).ToArray());
        }

        data.Txt.AddRange(found.TxtValues());
        return data;
    }

    /// <summary>The shard with the name at <paramref name="index"/> (if any) replaced by <paramref name="replacement"/> (or left out).</summary>
    private Shard Rebuild(Shard shard, int index, NameData? replacement)
    {
        var writer = new ShardWriter();
        for (var i = 0; i < shard.Entries.Length; i++)
        {
            if (i != index)
            {
                writer.AppendRaw(shard, i);
            }
        }

        if (replacement is not null)
        {
            writer.Append(this, replacement);
        }

        return writer.ToShard();
    }

    /// <summary>A name found: spans over its records' wire-format data, valid as long as the caller holds them.</summary>
    public readonly ref struct Found
    {
        private readonly ReadOnlySpan<byte> _data;
        private readonly int _txtCount;

        internal Found(byte[] blob, in Entry entry)
        {
            _data = blob.AsSpan(entry.Offset + entry.NameLength);
            ACount = entry.ACount;
            AaaaCount = entry.AaaaCount;
            _txtCount = entry.TxtCount;
            Complex = entry.Complex;
        }

        public int ACount { get; }

        public int AaaaCount { get; }

        public int TxtCount => _txtCount;

        /// <summary>A TXT value the fast path does not write itself (longer than one character-string, or not plain ASCII).</summary>
        public bool Complex { get; }

        public bool HasRecords => ACount + AaaaCount + _txtCount > 0;

        /// <summary>The A records' data, 4 bytes each.</summary>
        public ReadOnlySpan<byte> A => _data[..(ACount * 4)];

        /// <summary>The AAAA records' data, 16 bytes each.</summary>
        public ReadOnlySpan<byte> Aaaa => _data.Slice(ACount * 4, AaaaCount * 16);

        /// <summary>The TXT records' data: one character-string each (a length byte, then the text), back to back.</summary>
        public ReadOnlySpan<byte> Txt => _data[((ACount * 4) + (AaaaCount * 16))..];

        public List<string> TxtValues()
        {
            var values = new List<string>(_txtCount);
            var txt = Txt;
            for (var i = 0; i < _txtCount; i++)
            {
                var length = txt[0];
                values.Add(Encoding.UTF8.GetString(txt.Slice(1, length)));
                txt = txt[(1 + length)..];
            }

            return values;
        }
    }

    [StructLayout(LayoutKind.Auto)]
    internal readonly record struct Entry(uint Hash, int Offset, byte NameLength, byte ACount, byte AaaaCount, byte TxtCount, int Descendants, bool Complex);

    private sealed record Shard(uint[] Hashes, Entry[] Entries, byte[] Blob);

    private sealed record State((int Count, long MaxId) Version, uint Serial);

    /// <summary>One name's records while a shard is built.</summary>
    private sealed class NameData(string name)
    {
        public string Name { get; } = name;

        public List<byte[]> A { get; } = [];

        public List<byte[]> Aaaa { get; } = [];

        public List<string> Txt { get; } = [];

        public int Descendants { get; set; }

        public bool Complex { get; set; }

        public bool HasRecords => A.Count + Aaaa.Count + Txt.Count > 0;

        public int DataLength => (A.Count * 4) + (Aaaa.Count * 16) + Txt.Sum(t => 1 + Encoding.UTF8.GetByteCount(t));

        public void Clear()
        {
            A.Clear();
            Aaaa.Clear();
            Txt.Clear();
            Complex = false;
        }

        public void Add(string type, string value)
        {
            switch (type)
            {
                case "A" or "AAAA" when IPAddress.TryParse(value, out var address):
                    AddAddress(address);
                    break;
                // One character-string (ACME's values are 43 characters); anything but printable ASCII is answered
                // through the general path, as the library writes it.
                case "TXT" when A.Count + Aaaa.Count + Txt.Count < byte.MaxValue && Encoding.UTF8.GetByteCount(value) <= MaxTxtLength:
                    Complex |= value.Any(c => c is < ' ' or > '~' or '"' or '\\');
                    Txt.Add(value);
                    break;
            }
        }

        public void AddAddress(IPAddress address)
        {
            if (A.Count + Aaaa.Count + Txt.Count >= byte.MaxValue)
            {
                return;
            }

            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                A.Add(address.GetAddressBytes());
            }
            else if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                Aaaa.Add(address.GetAddressBytes());
            }
        }
    }
}

/// <summary>The records at one name, as the general answer path uses them.</summary>
internal sealed class ZoneNameRecords
{
    public List<IPAddress> Addresses { get; } = [];

    public List<string> Txt { get; } = [];
}
