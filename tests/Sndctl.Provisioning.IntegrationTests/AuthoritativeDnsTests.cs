using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The reference host with the embedded authoritative DNS server (<c>Provisioning:Dns:Provider=Authoritative</c>),
/// asked with <c>dig</c> over UDP and TCP as a resolver would, and devices driving their addresses over HTTP.
/// </summary>
public sealed class AuthoritativeDnsTests : IAsyncLifetime
{
    private const string Zone = "devices.example.test";
    private readonly List<ProvisioningHostFactory> _hosts = [];
    private readonly List<System.Diagnostics.Process> _processes = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
            host.DeleteData();
        }

        foreach (var process in _processes)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }

    [Fact]
    public async Task The_apex_answers_SOA_NS_and_glue_unknown_names_NXDOMAIN_with_SOA_and_other_zones_REFUSED_over_UDP_and_TCP()
    {
        var (_, port) = Start();

        foreach (var transport in (string[])["+notcp", "+tcp"])
        {
            var soa = await Dig.QueryAsync(port, Zone, "SOA", transport);
            Assert.Equal("NOERROR", soa.Status);
            Assert.True(soa.Authoritative, soa.Raw);
            var soaRecord = Assert.Single(soa.Answer);
            Assert.StartsWith($"{Zone} SOA ns1.{Zone}. hostmaster.{Zone}. ", soaRecord, StringComparison.Ordinal);

            var ns = await Dig.QueryAsync(port, Zone, "NS", transport);
            Assert.Equal([$"{Zone} NS ns1.{Zone}.", $"{Zone} NS ns2.example.net."], ns.Answer.Order(StringComparer.Ordinal));
            Assert.Contains($"ns1.{Zone} A 127.0.0.1", ns.Additional);
            Assert.Contains($"ns1.{Zone} AAAA ::1", ns.Additional);
            Assert.DoesNotContain(ns.Additional, r => r.StartsWith("ns2.", StringComparison.Ordinal)); // out of zone: no glue

            var glue = await Dig.QueryAsync(port, $"ns1.{Zone}", "A", transport);
            Assert.Equal([$"ns1.{Zone} A 127.0.0.1"], glue.Answer);

            var unknown = await Dig.QueryAsync(port, $"nosuchdevice.{Zone}", "A", transport);
            Assert.Equal("NXDOMAIN", unknown.Status);
            Assert.True(unknown.Authoritative);
            Assert.StartsWith($"{Zone} SOA ", Assert.Single(unknown.Authority), StringComparison.Ordinal);

            var nodata = await Dig.QueryAsync(port, Zone, "TXT", transport);
            Assert.Equal("NOERROR", nodata.Status);
            Assert.Empty(nodata.Answer);
            Assert.StartsWith($"{Zone} SOA ", Assert.Single(nodata.Authority), StringComparison.Ordinal);

            var outside = await Dig.QueryAsync(port, "example.com", "A", transport);
            Assert.Equal("REFUSED", outside.Status);
            Assert.False(outside.Authoritative);
            var sibling = await Dig.QueryAsync(port, "xdevices.example.test", "A", transport);
            Assert.Equal("REFUSED", sibling.Status);
        }

        // Names are matched whatever their case; the answer keeps the case that was asked (0x20 randomisation).
        var mixed = await Dig.QueryAsync(port, "NS1.DeViCeS.ExAmPlE.TeSt", "A");
        Assert.Equal([$"ns1.{Zone} A 127.0.0.1"], mixed.Answer);
        Assert.Contains("NS1.DeViCeS.ExAmPlE.TeSt.", mixed.Raw, StringComparison.Ordinal);

        // EDNS(0): the server says what it sends over UDP at most.
        var edns = await Dig.QueryAsync(port, Zone, "SOA", "+edns=0", "+bufsize=4096");
        Assert.Contains("udp: 1232", edns.Raw, StringComparison.Ordinal);

        // No zone transfers.
        var axfr = await Dig.QueryAsync(port, Zone, "AXFR");
        Assert.DoesNotContain(" SOA ", axfr.Raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Device_addresses_resolve_follow_register_renew_and_updates_ignore_bad_input_and_vanish_when_disabled_or_deleted()
    {
        var (host, port) = Start();
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        var registered = await client.SendAsync(ProvisioningHostFactory.Post("/api/register", device.Secret, new { deviceId = device.DeviceId, addresses = new[] { "192.168.1.23", "fd00::23" } }));
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        var body = await registered.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["192.168.1.23", "fd00::23"], body.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal([$"{device.Hostname} A 192.168.1.23"], (await Dig.QueryAsync(port, device.Hostname, "A")).Answer);
        Assert.Equal([$"{device.Hostname} AAAA fd00::23"], (await Dig.QueryAsync(port, device.Hostname, "AAAA", "+tcp")).Answer);
        var ttl = (await Dig.QueryAsync(port, device.Hostname, "A", "+ttlid")).Raw;
        Assert.Matches(@"\s60\s+IN\s+A\s+192\.168\.1\.23", ttl);

        var renewed = await client.SendAsync(ProvisioningHostFactory.Post("/api/renew", device.Secret, new { deviceId = device.DeviceId, hostname = device.Hostname, addresses = new[] { "10.1.2.3" } }));
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        Assert.Equal([$"{device.Hostname} A 10.1.2.3"], (await Dig.QueryAsync(port, device.Hostname, "A")).Answer);
        var noAaaa = await Dig.QueryAsync(port, device.Hostname, "AAAA");
        Assert.Equal("NOERROR", noAaaa.Status);
        Assert.Empty(noAaaa.Answer);

        var updated = await client.SendAsync(ProvisioningHostFactory.Post("/api/addresses", device.Secret, new { deviceId = device.DeviceId, addresses = new[] { "172.16.5.4", "10.1.2.3" } }));
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var updatedBody = await updated.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(device.Hostname, updatedBody.GetProperty("hostname").GetString());
        Assert.Equal(["10.1.2.3", "172.16.5.4"], updatedBody.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal([$"{device.Hostname} A 10.1.2.3", $"{device.Hostname} A 172.16.5.4"], (await Dig.QueryAsync(port, device.Hostname, "A")).Answer.Order(StringComparer.Ordinal));

        // Bad input: a 400 problem, and what resolvers see does not change.
        foreach (var bad in (object[])[new[] { "8.8.8.8" }, new[] { "127.0.0.1" }, new[] { "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5" }, new[] { "fe80::1" }, new object[] { 42 }, "10.0.0.1"])
        {
            var refused = await client.SendAsync(ProvisioningHostFactory.Post("/api/addresses", device.Secret, new { deviceId = device.DeviceId, addresses = bad }));
            await HttpAssert.ProblemAsync(refused, 400);
            var refusedRegister = await client.SendAsync(ProvisioningHostFactory.Post("/api/register", device.Secret, new { deviceId = device.DeviceId, addresses = bad }));
            await HttpAssert.ProblemAsync(refusedRegister, 400);
        }

        var wrongSecret = await client.SendAsync(ProvisioningHostFactory.Post("/api/addresses", "wrong-secret", new { deviceId = device.DeviceId, addresses = new[] { "10.9.9.9" } }));
        await HttpAssert.ProblemAsync(wrongSecret, 401);
        Assert.Equal([$"{device.Hostname} A 10.1.2.3", $"{device.Hostname} A 172.16.5.4"], (await Dig.QueryAsync(port, device.Hostname, "A")).Answer.Order(StringComparer.Ordinal));

        using var admin = host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        Assert.Equal(["10.1.2.3", "172.16.5.4"], details.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));

        (await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/disable", null)).EnsureSuccessStatusCode();
        Assert.Equal("NXDOMAIN", (await Dig.QueryAsync(port, device.Hostname, "A")).Status);
        (await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/enable", null)).EnsureSuccessStatusCode();
        Assert.Equal(2, (await Dig.QueryAsync(port, device.Hostname, "A")).Answer.Count);

        (await admin.DeleteAsync($"/api/admin/devices/{device.DeviceId}")).EnsureSuccessStatusCode();
        Assert.Equal("NXDOMAIN", (await Dig.QueryAsync(port, device.Hostname, "A")).Status);
    }

    [Fact]
    public async Task A_large_answer_is_truncated_over_UDP_and_whole_over_TCP()
    {
        var (host, port) = Start();
        var name = $"_acme-challenge.big.{Zone}";
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var dns = scope.ServiceProvider.GetRequiredService<IDnsProvider>();
            for (var i = 0; i < 30; i++)
            {
                await dns.CreateTxtRecordAsync(name, $"{i:D2}-" + new string('v', 40), TestContext.Current.CancellationToken);
            }
        }

        var udp = await Dig.QueryAsync(port, name, "TXT", "+noedns", "+ignore");
        Assert.True(udp.Truncated, udp.Raw);
        Assert.True(udp.Answer.Count < 30);

        var tcp = await Dig.QueryAsync(port, name, "TXT", "+tcp");
        Assert.False(tcp.Truncated);
        Assert.Equal(30, tcp.Answer.Count);

        // dig retries over TCP by itself when it sees TC, as resolvers do.
        Assert.Equal(30, (await Dig.QueryAsync(port, name, "TXT", "+noedns")).Answer.Count);

        // The name's parent exists (an empty non-terminal): NODATA, not NXDOMAIN.
        Assert.Equal("NOERROR", (await Dig.QueryAsync(port, $"big.{Zone}", "A")).Status);
    }

    [Fact]
    public async Task A_flood_of_garbage_packets_and_idle_connections_does_not_stop_the_answers()
    {
        var (host, port) = Start(new() { ["Provisioning:Dns:Authoritative:MaxTcpConnections"] = "8", ["Provisioning:Dns:Authoritative:TcpIdleTimeout"] = "00:00:01" });
        var target = new IPEndPoint(IPAddress.Loopback, port);
        var random = new Random(1234);
        using (var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            for (var i = 0; i < 20_000; i++)
            {
                var packet = new byte[random.Next(0, 600)];
                random.NextBytes(packet);
                if (i % 3 == 0 && packet.Length >= 12)
                {
                    // A plausible header (one question) over garbage, so the parser gets further before failing.
                    packet[2] = 0x00;
                    packet[4] = 0;
                    packet[5] = 1;
                }

                await udp.SendToAsync(packet, SocketFlags.None, target);
            }
        }

        // More idle TCP connections than the server serves at once, and some that send garbage.
        var idle = new List<Socket>();
        for (var i = 0; i < 20; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(target);
            if (i % 2 == 0)
            {
                var garbage = new byte[64];
                random.NextBytes(garbage);
                await socket.SendAsync(garbage, SocketFlags.None);
            }

            idle.Add(socket);
        }

        var afterUdp = await Dig.QueryAsync(port, Zone, "SOA");
        Assert.Equal("NOERROR", afterUdp.Status);
        // Beyond the 8 slots, clients wait in the backlog; a silent or garbage-sending client holds its slot at
        // most the idle timeout (1 s here), so this query is served within a few seconds.
        var afterTcp = await Dig.QueryAsync(port, Zone, "SOA", "+tcp", "+time=8");
        Assert.Equal("NOERROR", afterTcp.Status);

        foreach (var socket in idle)
        {
            socket.Dispose();
        }

        using var health = host.Admin();
        var report = await health.GetFromJsonAsync<JsonElement>("/api/health");
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("dns").GetProperty("status").GetString());
    }

    [Fact]
    public async Task ANY_gets_one_RRset_names_with_escaped_dots_are_refused_and_a_name_server_answers_its_glue_only()
    {
        var (host, port) = Start();
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();
        (await client.SendAsync(ProvisioningHostFactory.Post("/api/addresses", device.Secret, new { deviceId = device.DeviceId, addresses = new[] { "192.168.1.23", "fd00::23" } }))).EnsureSuccessStatusCode();

        // RFC 8482: no amplifier. The apex gives its SOA alone (no NS, no glue), a device one address family.
        var apex = await Dig.QueryAsync(port, Zone, "ANY");
        Assert.Equal("NOERROR", apex.Status);
        Assert.StartsWith($"{Zone} SOA ", Assert.Single(apex.Answer), StringComparison.Ordinal);
        Assert.Empty(apex.Additional);
        Assert.Equal([$"{device.Hostname} A 192.168.1.23"], (await Dig.QueryAsync(port, device.Hostname, "ANY")).Answer);

        // One label that holds dots is not the name it spells: refused, not answered as the name server or the apex.
        foreach (var (name, type) in new[] { ($"ns1\\.{Zone.Replace(".", "\\.", StringComparison.Ordinal)}.", "A"), (Zone.Replace(".", "\\.", StringComparison.Ordinal) + ".", "SOA"), ($"www\\.{device.DeviceId}.{Zone}.", "A") })
        {
            foreach (var transport in (string[])["+notcp", "+tcp"])
            {
                var answer = await Dig.QueryAsync(port, name, type, transport);
                Assert.Equal("REFUSED", answer.Status);
                Assert.Empty(answer.Answer);
                Assert.Empty(answer.Authority);
            }
        }

        // A name server's name is not a device's: its ID is reserved, and records there (a device made before) never join the glue.
        using var admin = host.Admin();
        await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/admin/devices", new { deviceId = "ns1" }), 400);
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<IZoneRecordStore>();
            await store.AddAsync(new ZoneRecord { Name = $"ns1.{Zone}", Type = "A", Value = "10.66.66.66", CreatedAt = DateTimeOffset.UtcNow }, TestContext.Current.CancellationToken);
        }

        // An instance started on that database reads the record with the whole zone: still the glue alone.
        var (later, laterPort) = Start(dataDirectory: host.DataDirectory);
        Assert.Equal(["10.66.66.66"], later.Services.GetRequiredService<Sndctl.Provisioning.Dns.Authoritative.Internal.ZoneCache>().Current!.At($"ns1.{Zone}")!.Addresses.Select(a => a.ToString()));
        Assert.Equal([$"ns1.{Zone} A 127.0.0.1"], (await Dig.QueryAsync(laterPort, $"ns1.{Zone}", "A")).Answer);
    }

    [Fact]
    public async Task The_labels_of_in_zone_name_servers_are_reserved_device_IDs()
    {
        var (host, _) = Start(new()
        {
            ["Provisioning:Dns:Authoritative:Nameservers:2:Name"] = $"dns-a.{Zone}",
            ["Provisioning:Dns:Authoritative:Nameservers:2:Addresses:0"] = "127.0.0.2",
            ["Provisioning:Dns:Authoritative:Nameservers:3:Name"] = $"a.anycast.{Zone}",
            ["Provisioning:Dns:Authoritative:Nameservers:3:Addresses:0"] = "127.0.0.3",
        });
        using var admin = host.Admin();

        foreach (var id in (string[])["dns-a", "anycast", "ns1"])
        {
            var problem = await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/admin/devices", new { deviceId = id }), 400);
            Assert.Contains("reserved", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/admin/devices", new { deviceId = "dns-b" })).StatusCode);
    }

    [Fact]
    public async Task A_flood_of_identical_answers_to_one_network_is_dropped_or_slipped_while_another_network_is_answered()
    {
        var (_, port) = Start();
        var server = new IPEndPoint(IPAddress.Loopback, port);
        var query = DnsQuery(Zone, 6); // SOA: the answer an amplifier would send to a spoofed victim

        var limited = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "sndctl.dns.rate_limited")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => limited.AddOrUpdate((string)tags[0].Value!, value, (_, sum) => sum + value));
        listener.Start();

        using var flooder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        flooder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        for (var i = 0; i < 300; i++)
        {
            query[0] = (byte)(i >> 8);
            query[1] = (byte)i;
            await flooder.SendToAsync(query, SocketFlags.None, server);
        }

        var (full, truncated) = await ReceiveAllAsync(flooder, TimeSpan.FromSeconds(2));

        // 20 per second with a burst of 20 (the default): a few dozen whole answers, every second of the rest
        // slipped (truncated: a real resolver asks again over TCP), the rest dropped.
        Assert.InRange(full, 20, 60);
        Assert.InRange(truncated, 80, 160);
        Assert.True(full + truncated < 250, $"{full} whole and {truncated} truncated answers to 300 queries");
        // Counted (UDP on loopback may lose a few packets either way, so the counts are bounds).
        Assert.True(limited.GetValueOrDefault("slipped") >= truncated, $"slipped {limited.GetValueOrDefault("slipped")}, received {truncated}");
        Assert.InRange(limited.GetValueOrDefault("dropped"), 50, 300 - full - truncated);

        // Another client network (127.1.0.0/24) is answered normally meanwhile, and so is the same question over TCP.
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        other.Bind(new IPEndPoint(IPAddress.Parse("127.1.0.1"), 0));
        await other.SendToAsync(query, SocketFlags.None, server);
        var (otherFull, otherTruncated) = await ReceiveAllAsync(other, TimeSpan.FromSeconds(1));
        Assert.Equal((1, 0), (otherFull, otherTruncated));
        Assert.Equal("NOERROR", (await Dig.QueryAsync(port, Zone, "SOA", "+tcp")).Status);
    }

    [Fact]
    public async Task One_host_cannot_hold_the_TCP_slots_and_a_query_trickled_a_byte_at_a_time_is_cut_off()
    {
        var (_, port) = Start(new()
        {
            ["Provisioning:Dns:Authoritative:MaxTcpConnectionsPerClient"] = "4",
            ["Provisioning:Dns:Authoritative:TcpIdleTimeout"] = "00:00:03",
        });
        var server = new IPEndPoint(IPAddress.Loopback, port);

        // Twelve connections from one host (127.1.0.1), each announcing a 255-byte query and sending it a byte every
        // 400 ms: the way a slow-loris attack holds slots while never going idle.
        var attackers = new List<Socket>();
        for (var i = 0; i < 12; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Parse("127.1.0.1"), 0));
            await socket.ConnectAsync(server);
            await socket.SendAsync(new byte[] { 0x00, 0xFF }, SocketFlags.None);
            attackers.Add(socket);
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        var closedAfter = await Task.WhenAll(attackers.Select(socket => TrickleUntilClosedAsync(socket, TimeSpan.FromSeconds(15))));

        // Beyond four per host, closed at once; the four served were cut off by the whole-message deadline.
        Assert.True(closedAfter.Count(t => t < TimeSpan.FromSeconds(2)) >= 8, string.Join(", ", closedAfter));
        Assert.All(closedAfter, t => Assert.True(t < TimeSpan.FromSeconds(8), $"a trickling connection was kept {t}"));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(12));

        // Other hosts were never shut out.
        Assert.Equal("NOERROR", (await Dig.QueryAsync(port, Zone, "SOA", "+tcp")).Status);
        foreach (var socket in attackers)
        {
            socket.Dispose();
        }
    }

    /// <summary>Sends one byte every 400 ms until the server closes the connection; how long that took.</summary>
    private static async Task<TimeSpan> TrickleUntilClosedAsync(Socket socket, TimeSpan limit)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var receive = socket.ReceiveAsync(new byte[64], SocketFlags.None);
        while (watch.Elapsed < limit)
        {
            if (await Task.WhenAny(receive, Task.Delay(400)) == receive)
            {
                return watch.Elapsed; // 0 bytes (closed) or an exception (reset): either way the server let go
            }

            try
            {
                await socket.SendAsync(new byte[] { 0x41 }, SocketFlags.None);
            }
            catch (SocketException)
            {
                return watch.Elapsed;
            }
        }

        return watch.Elapsed;
    }

    private static byte[] DnsQuery(string name, ushort type)
    {
        var bytes = new List<byte> { 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
        foreach (var label in name.Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(label));
        }

        bytes.AddRange([0, (byte)(type >> 8), (byte)type, 0, 1]);
        return [.. bytes];
    }

    /// <summary>Counts the answers that arrive until none has for <paramref name="quiet"/>: whole ones, and truncated (TC) ones.</summary>
    private static async Task<(int Full, int Truncated)> ReceiveAllAsync(Socket socket, TimeSpan quiet)
    {
        var (full, truncated) = (0, 0);
        var buffer = new byte[1500];
        while (true)
        {
            using var timeout = new CancellationTokenSource(quiet);
            try
            {
                var received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                var answers = (buffer[6] << 8) | buffer[7];
                if ((buffer[2] & 0x02) != 0)
                {
                    Assert.Equal(0, answers);
                    truncated++;
                }
                else
                {
                    Assert.Equal(1, answers);
                    full++;
                }
            }
            catch (OperationCanceledException)
            {
                return (full, truncated);
            }
        }
    }

    [Fact]
    public async Task Another_instance_on_the_same_database_answers_a_change_after_its_next_refresh()
    {
        var (first, firstPort) = Start();
        var (second, secondPort) = Start(dataDirectory: first.DataDirectory);
        var device = await first.CreateDeviceAsync();
        using var client = first.Device();
        (await client.SendAsync(ProvisioningHostFactory.Post("/api/addresses", device.Secret, new { deviceId = device.DeviceId, addresses = new[] { "192.168.50.5" } }))).EnsureSuccessStatusCode();

        Assert.Equal([$"{device.Hostname} A 192.168.50.5"], (await Dig.QueryAsync(firstPort, device.Hostname, "A")).Answer);
        Assert.Equal("NXDOMAIN", (await Dig.QueryAsync(secondPort, device.Hostname, "A")).Status);

        // The second instance reads the zone's change log once a second (its clock is the test's).
        second.Time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 100 && (await Dig.QueryAsync(secondPort, device.Hostname, "A")).Answer.Count == 0; i++)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Equal([$"{device.Hostname} A 192.168.50.5"], (await Dig.QueryAsync(secondPort, device.Hostname, "A")).Answer);

        // A removal alone (the device disabled on the first instance) is in the log too: noticed at the next read.
        using (var admin = first.Admin())
        {
            (await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/disable", null)).EnsureSuccessStatusCode();
        }

        Assert.Empty((await Dig.QueryAsync(firstPort, device.Hostname, "A")).Answer);
        second.Time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 100 && (await Dig.QueryAsync(secondPort, device.Hostname, "A")).Answer.Count > 0; i++)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Empty((await Dig.QueryAsync(secondPort, device.Hostname, "A")).Answer);

        // Each instance read the whole zone once, at start: every change since came from the log, name by name.
        var zones = new[] { first, second }.Select(h => h.Services.GetRequiredService<Sndctl.Provisioning.Dns.Authoritative.Internal.ZoneCache>());
        Assert.All(zones, zone => Assert.Equal(1, zone.FullReads));
    }

    [Fact]
    public async Task Pebble_validates_DNS_01_against_the_embedded_server_alone_and_the_challenge_record_is_gone_afterwards()
    {
        var lab = AcmeLab.Require();
        var port = Ports.Free();
        var (pebble, directory) = lab.StartPebble($"127.0.0.1:{port}", validatorSleeps: false);
        _processes.Add(pebble);
        var (host, _) = Start(
            new()
            {
                ["Provisioning:Issuer"] = "Acme",
                ["Provisioning:Acme:DirectoryUrl"] = directory.AbsoluteUri,
                ["Provisioning:Acme:AcceptTermsOfService"] = "true",
                ["Provisioning:Acme:TrustedRootFile"] = lab.TlsRootFile,
                ["Provisioning:Acme:PropagationNameservers:0"] = $"127.0.0.1:{port}",
            },
            port: port);
        var device = await host.CreateDeviceAsync();
        using var client = host.Device();

        HttpResponseMessage response;
        var attempts = 0;
        do
        {
            response = await client.SendAsync(ProvisioningHostFactory.Post("/api/register", device.Secret, new { deviceId = device.DeviceId, addresses = new[] { "192.168.9.9" } }));
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                await Task.Delay(500, TestContext.Current.CancellationToken);
            }
        }
        while (response.StatusCode == HttpStatusCode.Accepted && ++attempts < 60);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var body = await response.Content.ReadFromJsonAsync<ProvisionResponse>();
        var chain = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        chain.ImportFromPem(body!.Certificate);
        Assert.Equal(device.Hostname, chain[0].GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.DnsName, false));
        Assert.Contains("Pebble", chain[0].Issuer, StringComparison.Ordinal);

        var challenge = await Dig.QueryAsync(port, "_acme-challenge." + device.Hostname, "TXT");
        Assert.Empty(challenge.Answer);
        Assert.Equal([$"{device.Hostname} A 192.168.9.9"], (await Dig.QueryAsync(port, device.Hostname, "A")).Answer);
    }

    private (ProvisioningHostFactory Host, int Port) Start(Dictionary<string, string?>? extra = null, string? dataDirectory = null, int? port = null)
    {
        port ??= Ports.Free();
        var settings = new Dictionary<string, string?>
        {
            ["Provisioning:BaseDomain"] = Zone,
            ["Provisioning:Dns:Provider"] = "Authoritative",
            ["Provisioning:Dns:Authoritative:Endpoints:0"] = $"127.0.0.1:{port}",
            ["Provisioning:Dns:Authoritative:Nameservers:0:Name"] = $"ns1.{Zone}",
            ["Provisioning:Dns:Authoritative:Nameservers:0:Addresses:0"] = "127.0.0.1",
            ["Provisioning:Dns:Authoritative:Nameservers:0:Addresses:1"] = "::1",
            ["Provisioning:Dns:Authoritative:Nameservers:1:Name"] = "ns2.example.net",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var host = new ProvisioningHostFactory(dataDirectory, settings);
        _hosts.Add(host);
        using (host.Device())
        {
            // Started: the DNS server listens once the host runs.
        }

        return (host, port.Value);
    }
}
