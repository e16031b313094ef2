using System.Buffers.Binary;
using System.Text;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// The hot path of the UDP server: reads the common query (one question, class IN, no EDNS options, no DNSSEC
/// OK bit) straight from the packet and writes the answer straight into the response buffer from the zone table's
/// wire-format data: A, AAAA and TXT at device names, SOA at the apex, NODATA and NXDOMAIN with the SOA, REFUSED
/// outside the zone. Anything else (ANY, NS, name-server names, odd flags or sections, an answer that would not
/// fit) returns 0 and goes through <see cref="ZoneResponder"/> and the library, which give the same answers for
/// the common queries (tested byte for byte after parsing: FastAnswerTests). No allocation, no lock.
/// </summary>
internal sealed class FastAnswer
{
    private const int HeaderSize = 12;
    private const int MaxNameLength = 255;
    private const ushort TypeA = 1;
    private const ushort TypeNs = 2;
    private const ushort TypeSoa = 6;
    private const ushort TypeTxt = 16;
    private const ushort TypeAaaa = 28;
    private const ushort TypeOpt = 41;
    private const ushort TypeAny = 255;
    private const ushort TypeAxfr = 252;
    private const ushort TypeIxfr = 251;
    private const ushort ClassIn = 1;
    private const int Refresh = 3600;
    private const int Retry = 600;
    private const int Expire = 604_800;

    private readonly byte[] _zone;
    private readonly byte[] _apex;
    private readonly int _zoneLabels;
    private readonly int _ttl;
    private readonly byte[] _soaNames;
    private readonly byte[][] _nameserverNames;

    public FastAnswer(ZoneSettings zone)
    {
        _zone = Encoding.ASCII.GetBytes(zone.Zone);
        _apex = Wire(zone.Zone.Split('.'));
        _zoneLabels = zone.Zone.Split('.').Length;
        _ttl = zone.Ttl;
        _soaNames = [.. Wire(zone.Nameservers[0].Name.Labels), .. Wire(zone.Mailbox.Labels)];

        // The in-zone name servers' names and the names between them and the apex: answered by the general path (glue).
        _nameserverNames = zone.NameserverNames.Select(n => Encoding.ASCII.GetBytes(n[..^(zone.Zone.Length + 1)])).ToArray();
    }

    /// <summary>Writes the answer to <paramref name="query"/> into <paramref name="response"/>; its length, or 0 when the general path must answer.</summary>
    public int TryWrite(ReadOnlySpan<byte> query, Span<byte> response, ZoneTable? table, out int returnCode)
    {
        returnCode = 0;
        if (table is null || query.Length < HeaderSize + 5
            || (query[2] & 0xFA) != 0 // QR, opcode, AA, TC: a plain query only (RD may be set)
            || (query[3] & 0xEF) != 0 // RA, Z, AD, RCODE: only CD may be set
            || BinaryPrimitives.ReadUInt16BigEndian(query[4..]) != 1
            || BinaryPrimitives.ReadUInt32BigEndian(query[6..]) != 0
            || BinaryPrimitives.ReadUInt16BigEndian(query[10..]) is var additional && additional > 1)
        {
            return 0;
        }

        // The question's name, lower case with dots, and where each label starts (for the pointer to the apex).
        Span<byte> name = stackalloc byte[MaxNameLength];
        Span<int> labelStarts = stackalloc int[128];
        var labels = 0;
        var nameLength = 0;
        var at = HeaderSize;
        while (true)
        {
            if (at >= query.Length)
            {
                return 0;
            }

            var length = query[at];
            if (length == 0)
            {
                at++;
                break;
            }

            if (length > 63 || at + 1 + length > query.Length || nameLength + length + 1 > MaxNameLength || labels == labelStarts.Length)
            {
                return 0;
            }

            labelStarts[labels++] = at;
            if (nameLength > 0)
            {
                name[nameLength++] = (byte)'.';
            }

            foreach (var b in query.Slice(at + 1, length))
            {
                if (b == '.')
                {
                    return 0; // a dot inside a label: the general path refuses it
                }

                name[nameLength++] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
            }

            at += 1 + length;
        }

        if (at + 4 > query.Length)
        {
            return 0;
        }

        var type = BinaryPrimitives.ReadUInt16BigEndian(query[at..]);
        var questionClass = BinaryPrimitives.ReadUInt16BigEndian(query[(at + 2)..]);
        var questionEnd = at + 4;
        var edns = false;
        var payload = 512;
        if (additional == 1)
        {
            // Only an OPT record without options and without the DO bit, version 0.
            var opt = query[questionEnd..];
            if (opt.Length != 11 || opt[0] != 0 || BinaryPrimitives.ReadUInt16BigEndian(opt[1..]) != TypeOpt
                || BinaryPrimitives.ReadUInt32BigEndian(opt[5..]) != 0 || BinaryPrimitives.ReadUInt16BigEndian(opt[9..]) != 0)
            {
                return 0;
            }

            edns = true;
            payload = Math.Min(Math.Max((int)BinaryPrimitives.ReadUInt16BigEndian(opt[3..]), 512), ZoneResponder.MaxUdpPayload);
        }
        else if (questionEnd != query.Length)
        {
            return 0;
        }

        if (questionClass != ClassIn || type is TypeAny or TypeAxfr or TypeIxfr or TypeOpt or TypeNs)
        {
            return 0;
        }

        var fullName = name[..nameLength];
        var isApex = fullName.SequenceEqual(_zone);
        var inZone = isApex || (nameLength > _zone.Length && fullName[^(_zone.Length + 1)] == '.' && fullName.EndsWith(_zone));
        var minimum = HeaderSize + (questionEnd - HeaderSize) + (edns ? 11 : 0);
        if (response.Length < Math.Min(payload, ZoneResponder.MaxUdpPayload) || minimum > payload)
        {
            return 0;
        }

        // Header and question as sent (the question keeps the client's case).
        query[..2].CopyTo(response);
        response[2] = (byte)(0x80 | (query[2] & 0x01));
        response[3] = (byte)(query[3] & 0x10);
        query[HeaderSize..questionEnd].CopyTo(response[HeaderSize..]);
        var write = questionEnd;
        ushort answers = 0, authority = 0;
        if (!inZone)
        {
            returnCode = 5; // REFUSED
        }
        else
        {
            var relative = isApex ? default : fullName[..(nameLength - _zone.Length - 1)];
            if (!isApex && IsNameserverName(relative))
            {
                return 0;
            }

            response[2] |= 0x04; // AA
            var found = false;
            ZoneTable.Found records = default;
            if (!isApex)
            {
                found = table.TryFind(relative, out records);
                if (found && records.Complex)
                {
                    return 0;
                }
            }

            // The SOA's owner is the apex as the zone writes it: a pointer into the question where the client wrote it
            // so too, else the name in full (a client's "FLEET.Example.test" is not echoed into the SOA).
            var apexStart = labelStarts[labels - _zoneLabels];
            var apexPointer = query.Slice(apexStart, Math.Min(_apex.Length, query.Length - apexStart)).SequenceEqual(_apex) ? (ushort)(0xC000 | apexStart) : (ushort)0;
            if (isApex && type == TypeSoa)
            {
                if (!TryWriteSoa(response, ref write, apexPointer, table.Serial, payload))
                {
                    return 0;
                }

                answers = 1;
            }
            else if (found)
            {
                switch (type)
                {
                    case TypeA:
                        answers = (ushort)records.ACount;
                        if (!TryWriteFixed(response, ref write, TypeA, records.A, 4, payload))
                        {
                            return 0;
                        }

                        break;
                    case TypeAaaa:
                        answers = (ushort)records.AaaaCount;
                        if (!TryWriteFixed(response, ref write, TypeAaaa, records.Aaaa, 16, payload))
                        {
                            return 0;
                        }

                        break;
                    case TypeTxt:
                        answers = (ushort)records.TxtCount;
                        if (!TryWriteTxt(response, ref write, records.Txt, records.TxtCount, payload))
                        {
                            return 0;
                        }

                        break;
                }
            }

            if (answers == 0)
            {
                // NODATA where the name exists (the apex, a name with records or below one), NXDOMAIN elsewhere, with the SOA.
                returnCode = isApex || found ? 0 : 3;
                if (!TryWriteSoa(response, ref write, apexPointer, table.Serial, payload))
                {
                    return 0;
                }

                authority = 1;
            }
        }

        response[3] |= (byte)returnCode;
        BinaryPrimitives.WriteUInt16BigEndian(response[4..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(response[6..], answers);
        BinaryPrimitives.WriteUInt16BigEndian(response[8..], authority);
        BinaryPrimitives.WriteUInt16BigEndian(response[10..], (ushort)(edns ? 1 : 0));
        if (edns)
        {
            if (write + 11 > payload)
            {
                return 0;
            }

            var opt = response[write..];
            opt[0] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(opt[1..], TypeOpt);
            BinaryPrimitives.WriteUInt16BigEndian(opt[3..], (ushort)payload);
            opt.Slice(5, 6).Clear();
            write += 11;
        }

        return write;
    }

    private bool IsNameserverName(ReadOnlySpan<byte> relative)
    {
        foreach (var ns in _nameserverNames)
        {
            if (relative.SequenceEqual(ns))
            {
                return true;
            }
        }

        return false;
    }

    private bool TryWriteFixed(Span<byte> response, ref int write, ushort type, ReadOnlySpan<byte> data, int size, int limit)
    {
        var count = data.Length / size;
        if (write + (count * (12 + size)) > limit)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            WriteRecordHeader(response, ref write, 0xC00C, type, size);
            data.Slice(i * size, size).CopyTo(response[write..]);
            write += size;
        }

        return true;
    }

    private bool TryWriteTxt(Span<byte> response, ref int write, ReadOnlySpan<byte> txt, int count, int limit)
    {
        for (var i = 0; i < count; i++)
        {
            var length = 1 + txt[0];
            if (write + 12 + length > limit)
            {
                return false;
            }

            WriteRecordHeader(response, ref write, 0xC00C, TypeTxt, length);
            txt[..length].CopyTo(response[write..]);
            write += length;
            txt = txt[length..];
        }

        return true;
    }

    private bool TryWriteSoa(Span<byte> response, ref int write, ushort owner, uint serial, int limit)
    {
        var length = _soaNames.Length + 20;
        if (write + 12 + (owner == 0 ? _apex.Length : 0) + length > limit)
        {
            return false;
        }

        WriteRecordHeader(response, ref write, owner, TypeSoa, length);
        _soaNames.CopyTo(response[write..]);
        write += _soaNames.Length;
        BinaryPrimitives.WriteUInt32BigEndian(response[write..], serial);
        BinaryPrimitives.WriteInt32BigEndian(response[(write + 4)..], Refresh);
        BinaryPrimitives.WriteInt32BigEndian(response[(write + 8)..], Retry);
        BinaryPrimitives.WriteInt32BigEndian(response[(write + 12)..], Expire);
        BinaryPrimitives.WriteInt32BigEndian(response[(write + 16)..], _ttl);
        write += 20;
        return true;
    }

    /// <summary>Owner (a compression pointer, or the apex in full when <paramref name="owner"/> is 0), type, class, TTL, data length.</summary>
    private void WriteRecordHeader(Span<byte> response, ref int write, ushort owner, ushort type, int length)
    {
        if (owner == 0)
        {
            _apex.CopyTo(response[write..]);
            write += _apex.Length - 2;
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(response[write..], owner);
        }

        BinaryPrimitives.WriteUInt16BigEndian(response[(write + 2)..], type);
        BinaryPrimitives.WriteUInt16BigEndian(response[(write + 4)..], ClassIn);
        BinaryPrimitives.WriteInt32BigEndian(response[(write + 6)..], _ttl);
        BinaryPrimitives.WriteUInt16BigEndian(response[(write + 10)..], (ushort)length);
        write += 12;
    }

    private static byte[] Wire(IEnumerable<string> labels)
    {
        var bytes = new List<byte>();
        foreach (var label in labels)
        {
            var encoded = Encoding.ASCII.GetBytes(label);
            bytes.Add((byte)encoded.Length);
            bytes.AddRange(encoded);
        }

        bytes.Add(0);
        return [.. bytes];
    }
}
