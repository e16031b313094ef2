using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// Answers one query for the zone, authoritatively, from a snapshot: SOA and NS at the apex, glue for in-zone
/// name servers, A/AAAA and TXT from the database, NXDOMAIN or NODATA with the SOA for what is not there,
/// REFUSED for names outside the zone. Pure: no I/O, so it is tested without sockets.
/// </summary>
internal static class ZoneResponder
{
    /// <summary>The largest UDP answer offered with EDNS(0): the DNS flag day 2020 size that avoids IP fragmentation.</summary>
    public const ushort MaxUdpPayload = 1232;

    private const int Refresh = 3600;
    private const int Retry = 600;
    private const int Expire = 604_800;

    public static DnsMessage Answer(DnsMessage query, ZoneTable? snapshot, ZoneSettings zone)
    {
        var response = query.CreateResponseInstance();
        if (query.IsEDnsEnabled)
        {
            // Truncation to TCP follows the smaller of what the client offers and what we send unfragmented.
            response.EDnsOptions!.UdpPayloadSize = Math.Min(Math.Max(query.EDnsOptions!.UdpPayloadSize, (ushort)512), MaxUdpPayload);
            response.EDnsOptions.Options.Clear();
        }

        if (query.OperationCode != OperationCode.Query)
        {
            response.ReturnCode = ReturnCode.NotImplemented;
            return response;
        }

        if (query.Questions.Count != 1 || query.EDnsOptions is { Version: > 0 })
        {
            response.ReturnCode = query.EDnsOptions is { Version: > 0 } ? ReturnCode.BadVersion : ReturnCode.FormatError;
            return response;
        }

        var question = query.Questions[0];

        // A label holding a dot ("ns1\.fleet\.test.", one label) is no name of this zone, whose names are
        // host names: joined with dots it would read as another name, so such a question is refused.
        var name = Normalize(question.Name);
        if (name is null || !zone.IsInZone(name) || question.RecordClass is not (RecordClass.INet or RecordClass.Any)
            || question.RecordType is RecordType.Axfr or RecordType.Ixfr)
        {
            response.ReturnCode = ReturnCode.Refused;
            return response;
        }

        if (snapshot is null)
        {
            // Not yet read from the database: no answer rather than a wrong one.
            response.ReturnCode = ReturnCode.ServerFailure;
            return response;
        }

        response.IsAuthoritiveAnswer = true;
        var type = question.RecordType;
        var owner = question.Name;
        var isApex = name == zone.Zone;
        var nameserver = zone.Nameservers.FirstOrDefault(ns => ns.Text == name);

        // A name server's in-zone name answers its glue only: records stored at that name (a device created
        // before its ID was reserved) never join it.
        var records = nameserver is null ? snapshot.At(name) : null;
        if (type == RecordType.Any)
        {
            // RFC 8482: ANY gets one RRset of what is there, not everything (no amplifier).
            AnswerAny(response, owner, isApex, nameserver, records, zone, snapshot);
        }
        else
        {
            if (isApex && type == RecordType.Soa)
            {
                response.AnswerRecords.Add(Soa(zone, snapshot));
            }

            if (isApex && type == RecordType.Ns)
            {
                foreach (var ns in zone.Nameservers)
                {
                    response.AnswerRecords.Add(new NsRecord(owner, zone.Ttl, ns.Name));
                }

                foreach (var ns in zone.Nameservers)
                {
                    AddAddresses(response.AdditionalRecords, ns.Name, ns.Glue, RecordType.Any, zone.Ttl);
                }
            }

            if (nameserver is not null)
            {
                AddAddresses(response.AnswerRecords, owner, nameserver.Glue, type, zone.Ttl);
            }

            if (records is not null)
            {
                AddAddresses(response.AnswerRecords, owner, records.Addresses, type, zone.Ttl);
                if (type == RecordType.Txt)
                {
                    foreach (var text in records.Txt)
                    {
                        response.AnswerRecords.Add(new TxtRecord(owner, zone.Ttl, text));
                    }
                }
            }
        }

        if (response.AnswerRecords.Count == 0)
        {
            // NODATA for a name that exists (the apex, a name server, a record's name or one above it), NXDOMAIN
            // otherwise; the SOA in the authority section gives resolvers the negative-caching TTL (RFC 2308).
            var exists = isApex || zone.HoldsNameserver(name) || snapshot.Covers(name);
            response.ReturnCode = exists ? ReturnCode.NoError : ReturnCode.NxDomain;
            response.AuthorityRecords.Add(Soa(zone, snapshot));
        }

        return response;
    }

    /// <summary>
    /// A query name as the zone's keys are written: lower case, labels joined by dots, no trailing dot; or
    /// <see langword="null"/> when a label holds a dot itself (the joined text would name something else).
    /// </summary>
    public static string? Normalize(DomainName name)
        => name.Labels.Any(label => label.Contains('.', StringComparison.Ordinal)) ? null : string.Join('.', name.Labels).ToLowerInvariant();

    /// <summary>The first RRset there is at the name: the SOA at the apex, else addresses (A before AAAA), else TXT.</summary>
    private static void AnswerAny(DnsMessage response, DomainName owner, bool isApex, ZoneSettings.Nameserver? nameserver, ZoneNameRecords? records, ZoneSettings zone, ZoneTable snapshot)
    {
        if (isApex)
        {
            response.AnswerRecords.Add(Soa(zone, snapshot));
            return;
        }

        var addresses = nameserver?.Glue ?? (IEnumerable<IPAddress>?)records?.Addresses ?? [];
        var first = addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).FirstOrDefault();
        if (first is not null)
        {
            var type = first.AddressFamily == AddressFamily.InterNetwork ? RecordType.A : RecordType.Aaaa;
            AddAddresses(response.AnswerRecords, owner, addresses, type, zone.Ttl);
        }
        else if (records is { Txt.Count: > 0 })
        {
            foreach (var text in records.Txt)
            {
                response.AnswerRecords.Add(new TxtRecord(owner, zone.Ttl, text));
            }
        }
    }

    private static SoaRecord Soa(ZoneSettings zone, ZoneTable snapshot)
        => new(zone.Apex, zone.Ttl, zone.Nameservers[0].Name, zone.Mailbox, snapshot.Serial, Refresh, Retry, Expire, zone.Ttl);

    private static void AddAddresses(List<DnsRecordBase> section, DomainName owner, IEnumerable<IPAddress> addresses, RecordType type, int ttl)
    {
        foreach (var address in addresses)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork && type is RecordType.A or RecordType.Any)
            {
                section.Add(new ARecord(owner, ttl, address));
            }
            else if (address.AddressFamily == AddressFamily.InterNetworkV6 && type is RecordType.Aaaa or RecordType.Any)
            {
                section.Add(new AaaaRecord(owner, ttl, address));
            }
        }
    }
}
