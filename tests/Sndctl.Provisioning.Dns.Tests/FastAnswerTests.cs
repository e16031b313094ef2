using System.Buffers.Binary;
using System.Net;
using System.Text;
using ARSoft.Tools.Net.Dns;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Authoritative;
using Sndctl.Provisioning.Dns.Authoritative.Internal;

namespace Sndctl.Provisioning.Dns.Tests;

/// <summary>
/// The UDP hot path against the general one: for every query it takes, its answer, parsed by the library, is the
/// answer <see cref="ZoneResponder"/> gives through the library (header flags, codes, every section, EDNS); what it
/// does not take is left to the general path. And the compact zone table follows changes.
/// </summary>
public sealed class FastAnswerTests
{
    private const string Zone = "fleet.example.test";

    private static readonly ZoneSettings s_settings = Settings();

    private static ZoneTable Table() => ZoneTable.Build(Zone, [
        Record("dev-1", "A", "192.0.2.10"),
        Record("dev-1", "AAAA", "2001:db8::10"),
        Record("dev-2", "A", "192.0.2.20"),
        Record("dev-2", "A", "192.0.2.21"),
        Record("_acme-challenge.dev-3", "TXT", "abcDEF-123_xyz"),
        Record("_acme-challenge.dev-3", "TXT", "second-value"),
        Record("odd", "TXT", "with \"quotes\" and \\ backslash"),
        Record("v6only", "AAAA", "fd00::1"),
        Record("elsewhere.example.org", "A", "198.51.100.1", qualified: true),
    ], serial: 2026120701);

    public static TheoryData<string, ushort, bool, ushort, bool> Taken => new()
    {
        { "dev-1.fleet.example.test", 1, false, 0, false },
        { "DEV-1.Fleet.Example.Test", 1, true, 0, false },
        { "dev-1.fleet.example.test", 28, false, 1232, false },
        { "dev-1.fleet.example.test", 16, false, 4096, false },
        { "dev-1.fleet.example.test", 15, true, 0, true },
        { "dev-2.fleet.example.test", 1, true, 512, false },
        { "dev-2.fleet.example.test", 28, true, 0, false },
        { "v6only.fleet.example.test", 1, true, 0, false },
        { "_acme-challenge.dev-3.fleet.example.test", 16, false, 0, false },
        { "dev-3.fleet.example.test", 1, false, 0, false },
        { "nosuch.fleet.example.test", 1, true, 0, false },
        { "a.b.c.nosuch.fleet.example.test", 16, true, 1400, true },
        { "nosuch.FLEET.Example.test", 1, false, 0, false },
        { "dev-1.fleet.EXAMPLE.test", 15, false, 0, false },
        { "fleet.example.test", 6, true, 0, false },
        { "FLEET.example.test", 6, false, 600, false },
        { "fleet.example.test", 1, true, 0, false },
        { "fleet.example.test", 16, false, 0, false },
        { "example.test", 6, true, 0, false },
        { "elsewhere.example.org", 1, true, 0, false },
        { "test", 1, false, 1232, false },
    };

    [Theory]
    [MemberData(nameof(Taken))]
    public void The_fast_answer_is_the_general_answer(string name, ushort type, bool recursionDesired, ushort ednsPayload, bool checkingDisabled)
    {
        var table = Table();
        var query = Query(name, type, recursionDesired, ednsPayload, checkingDisabled);
        var response = new byte[ZoneResponder.MaxUdpPayload];

        var length = new FastAnswer(s_settings).TryWrite(query, response, table, out var returnCode);

        Assert.True(length > 0, "the fast path left the query to the general path");
        var fast = DnsMessage.Parse(new ArraySegment<byte>(response, 0, length));
        var general = ZoneResponder.Answer(DnsMessage.Parse(query), table, s_settings);
        Assert.Equal((int)general.ReturnCode, returnCode);
        Assert.Equal(Describe(general), Describe(fast));
    }

    [Fact]
    public void Queries_the_fast_path_does_not_take_are_left_to_the_general_path()
    {
        var table = Table();
        var fast = new FastAnswer(s_settings);
        var response = new byte[ZoneResponder.MaxUdpPayload];

        int Write(byte[] query) => fast.TryWrite(query, response, table, out _);

        Assert.Equal(0, Write(Query("dev-1.fleet.example.test", 255, false, 0, false))); // ANY
        Assert.Equal(0, Write(Query("fleet.example.test", 2, false, 0, false))); // NS: glue
        Assert.Equal(0, Write(Query("ns1.fleet.example.test", 1, false, 0, false))); // a name server's name
        Assert.Equal(0, Write(Query("odd.fleet.example.test", 16, false, 0, false))); // TXT the library escapes itself
        Assert.Equal(0, Write(Query("dev-1.fleet.example.test", 252, false, 0, false))); // AXFR
        Assert.Equal(0, Write(Query("dev-1.fleet.example.test", 1, false, 0, false, questionClass: 255)));
        Assert.Equal(0, Write(Query("dev-1.fleet.example.test", 1, false, 1232, false, dnssecOk: true)));
        Assert.Equal(0, Write(Query("dev-1.fleet.example.test", 1, false, 1232, false, ednsVersion: 1)));
        Assert.Equal(0, Write(Query("dev-1.fleet.example.test", 1, false, 1232, false, cookie: true)));
        Assert.Equal(0, Write([.. Query("dev-1.fleet.example.test", 1, false, 0, false), 0])); // trailing bytes
        var escapedDot = Query("x.fleet.example.test", 1, false, 0, false);
        escapedDot[13] = (byte)'.';
        Assert.Equal(0, Write(escapedDot));
        var notify = Query("fleet.example.test", 6, false, 0, false);
        notify[2] |= 4 << 3;
        Assert.Equal(0, Write(notify));
        Assert.Equal(0, new FastAnswer(s_settings).TryWrite(Query("dev-1.fleet.example.test", 1, false, 0, false), response, null, out _)); // not loaded: SERVFAIL by the general path
    }

    [Fact]
    public void An_answer_that_does_not_fit_is_left_to_the_general_path_which_truncates_it()
    {
        var many = Enumerable.Range(1, 40).Select(i => Record("big", "AAAA", $"2001:db8::{i:x}")).ToList();
        var table = ZoneTable.Build(Zone, many, 1);
        var response = new byte[ZoneResponder.MaxUdpPayload];
        var fast = new FastAnswer(s_settings);

        Assert.Equal(0, fast.TryWrite(Query("big.fleet.example.test", 28, false, 0, false), response, table, out _)); // 40 × 40 bytes > 512
        Assert.True(fast.TryWrite(Query("big.fleet.example.test", 28, false, 1232, false), response, table, out _) > 0); // with EDNS it fits
    }

    [Fact]
    public void The_table_follows_changes_keeps_TXT_beside_addresses_and_empty_non_terminals_come_and_go()
    {
        var table = Table();
        Assert.True(table.Covers("dev-3.fleet.example.test")); // above a TXT record: NODATA, not NXDOMAIN
        Assert.Null(table.At("dev-3.fleet.example.test"));

        table.SetAddresses("dev-3.fleet.example.test", [IPAddress.Parse("192.0.2.30")], (10, 10), 2);
        Assert.Equal([IPAddress.Parse("192.0.2.30")], table.At("dev-3.fleet.example.test")!.Addresses);
        Assert.Equal(2u, table.Serial);
        Assert.Equal((10, 10L), table.Version);

        // The challenge goes: dev-3 keeps its address; then the address goes and dev-3 is gone too.
        table.Replace("_acme-challenge.dev-3.fleet.example.test", [], (8, 10), 3);
        Assert.False(table.Covers("_acme-challenge.dev-3.fleet.example.test"));
        Assert.True(table.Covers("dev-3.fleet.example.test"));
        table.SetAddresses("dev-3.fleet.example.test", [], (7, 10), 4);
        Assert.False(table.Covers("dev-3.fleet.example.test"));

        // Addresses change, TXT at the same name stays.
        table.Replace("dev-1.fleet.example.test", [Record("dev-1", "A", "192.0.2.10"), Record("dev-1", "TXT", "kept")], (8, 11), 5);
        table.SetAddresses("dev-1.fleet.example.test", [IPAddress.Parse("192.0.2.99"), IPAddress.Parse("2001:db8::99")], (9, 12), 6);
        var dev1 = table.At("dev-1.fleet.example.test")!;
        Assert.Equal([IPAddress.Parse("192.0.2.99"), IPAddress.Parse("2001:db8::99")], dev1.Addresses);
        Assert.Equal(["kept"], dev1.Txt);

        // A deep name made by a change (not at build time) makes its parents exist, and they go with it.
        table.Replace("_acme-challenge.new.fleet.example.test", [Record("_acme-challenge.new", "TXT", "v")], (10, 13), 7);
        Assert.True(table.Covers("new.fleet.example.test"));
        table.Replace("_acme-challenge.new.fleet.example.test", [], (9, 13), 8);
        Assert.False(table.Covers("new.fleet.example.test"));

        // The other names are untouched, and names outside the zone are never held.
        Assert.Equal(2, table.At("dev-2.fleet.example.test")!.Addresses.Count);
        Assert.Null(table.At("elsewhere.example.org"));
    }

    [Fact]
    public void A_large_table_answers_every_name_after_many_changes()
    {
        var records = Enumerable.Range(0, 50_000).Select(i => Record($"d{i}", "A", $"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")).ToList();
        var table = ZoneTable.Build(Zone, records, 1);
        for (var i = 0; i < 50_000; i += 7)
        {
            table.SetAddresses($"d{i}.{Zone}", [IPAddress.Parse($"172.16.{i >> 8 & 255}.{i & 255}")], (50_000, 50_000), 2);
        }

        for (var i = 0; i < 50_000; i++)
        {
            var expected = i % 7 == 0 ? $"172.16.{i >> 8 & 255}.{i & 255}" : $"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}";
            Assert.Equal(IPAddress.Parse(expected), Assert.Single(table.At($"d{i}.{Zone}")!.Addresses));
        }

        Assert.False(table.Covers($"d50000.{Zone}"));
    }

    private static string Describe(DnsMessage message)
    {
        var text = new StringBuilder()
            .AppendLine($"id={message.TransactionID} qr={message.IsQuery} aa={message.IsAuthoritiveAnswer} tc={message.IsTruncated} rd={message.IsRecursionDesired} ra={message.IsRecursionAllowed} ad={message.IsAuthenticData} cd={message.IsCheckingDisabled} op={message.OperationCode} rcode={message.ReturnCode}")
            .AppendLine($"edns={message.IsEDnsEnabled} payload={message.EDnsOptions?.UdpPayloadSize} do={message.EDnsOptions?.IsDnsSecOk} version={message.EDnsOptions?.Version} options={message.EDnsOptions?.Options.Count}");
        foreach (var question in message.Questions)
        {
            text.AppendLine($"question {question}");
        }

        foreach (var (section, records) in new[] { ("answer", message.AnswerRecords), ("authority", message.AuthorityRecords), ("additional", message.AdditionalRecords) })
        {
            foreach (var record in records.Where(r => r is not OptRecord))
            {
                text.AppendLine($"{section} {record}");
            }
        }

        return text.ToString();
    }

    private static byte[] Query(string name, ushort type, bool recursionDesired, ushort ednsPayload, bool checkingDisabled, ushort questionClass = 1, bool dnssecOk = false, byte ednsVersion = 0, bool cookie = false)
    {
        var bytes = new List<byte> { 0xAB, 0xCD, (byte)(recursionDesired ? 1 : 0), (byte)(checkingDisabled ? 0x10 : 0), 0, 1, 0, 0, 0, 0, 0, (byte)(ednsPayload > 0 ? 1 : 0) };
        foreach (var label in name.Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        bytes.AddRange([(byte)(type >> 8), (byte)type, (byte)(questionClass >> 8), (byte)questionClass]);
        if (ednsPayload > 0)
        {
            var option = cookie ? new byte[] { 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 } : [];
            bytes.AddRange([0, 0, 41, (byte)(ednsPayload >> 8), (byte)ednsPayload, 0, ednsVersion, (byte)(dnssecOk ? 0x80 : 0), 0, 0, (byte)option.Length]);
            bytes.AddRange(option);
        }

        var query = bytes.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(query, 0xABCD);
        return query;
    }

    private static ZoneRecord Record(string name, string type, string value, bool qualified = false)
        => new() { Id = Interlocked.Increment(ref s_id), Name = qualified ? name : $"{name}.{Zone}", Type = type, Value = value };

    private static long s_id;

    private static ZoneSettings Settings()
    {
        var options = new AuthoritativeDnsOptions();
        options.Nameservers.Add(new AuthoritativeNameserver { Name = "ns1.fleet.example.test", Addresses = { "192.0.2.53", "2001:db8::53" } });
        options.Nameservers.Add(new AuthoritativeNameserver { Name = "ns2.elsewhere.example" });
        return new ZoneSettings(Zone, options);
    }
}
