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

    public static DnsMessage Answer(DnsMessage query, ZoneSnapshot? snapshot, ZoneSettings zone)
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
        var name = Normalize(question.Name);
        if (!zone.IsInZone(name) || question.RecordClass is not (RecordClass.INet or RecordClass.Any)
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
        var any = type == RecordType.Any;
        var owner = question.Name;
        var isApex = name == zone.Zone;
        if (isApex && (any || type == RecordType.Soa))
        {
            response.AnswerRecords.Add(Soa(zone, snapshot));
        }

        if (isApex && (any || type == RecordType.Ns))
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

        var nameserver = zone.Nameservers.FirstOrDefault(ns => ns.Text == name);
        if (nameserver is not null)
        {
            AddAddresses(response.AnswerRecords, owner, nameserver.Glue, type, zone.Ttl);
        }

        var records = snapshot.At(name);
        if (records is not null)
        {
            AddAddresses(response.AnswerRecords, owner, records.Addresses, type, zone.Ttl);
            if (any || type == RecordType.Txt)
            {
                foreach (var text in records.Txt)
                {
                    response.AnswerRecords.Add(new TxtRecord(owner, zone.Ttl, text));
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

    /// <summary>A query name as the zone's keys are written: lower case, labels joined by dots, no trailing dot.</summary>
    public static string Normalize(DomainName name) => string.Join('.', name.Labels).ToLowerInvariant();

    private static SoaRecord Soa(ZoneSettings zone, ZoneSnapshot snapshot)
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
