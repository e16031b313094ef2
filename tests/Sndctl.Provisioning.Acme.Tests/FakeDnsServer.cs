using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sndctl.Provisioning.Acme.Tests;

/// <summary>
/// A minimal DNS server over UDP on a loopback address, enough to play a recursive resolver or an
/// authoritative nameserver: A, NS, CNAME, TXT and SOA records, NXDOMAIN with the zone's SOA in the
/// authority section (RFC 2308), and a count of the queries it answered.
/// </summary>
internal sealed class FakeDnsServer : IAsyncDisposable
{
    private const ushort TypeA = 1, TypeNs = 2, TypeCname = 5, TypeSoa = 6, TypeTxt = 16;
    private readonly UdpClient _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly ConcurrentDictionary<(string Name, ushort Type), List<byte[]>> _records = new();

    public FakeDnsServer(IPAddress address, int port = 0)
    {
        _socket = new UdpClient(new IPEndPoint(address, port));
        EndPoint = (IPEndPoint)_socket.Client.LocalEndPoint!;
        _loop = Task.Run(ServeAsync);
    }

    public IPEndPoint EndPoint { get; }

    public string? Zone { get; set; }

    public int TxtQueries;

    public void AddA(string name, IPAddress address) => Add(name, TypeA, address.GetAddressBytes());

    public void AddNs(string zone, string host) => Add(zone, TypeNs, EncodeName(host));

    public void AddCname(string name, string target) => Add(name, TypeCname, EncodeName(target));

    public void AddTxt(string name, string value)
    {
        var text = Encoding.ASCII.GetBytes(value);
        Add(name, TypeTxt, [(byte)text.Length, .. text]);
    }

    public void ClearTxt(string name) => _records.TryRemove((Key(name), TypeTxt), out _);

    public void AddSoa(string zone)
    {
        var rdata = new List<byte>();
        rdata.AddRange(EncodeName("ns1." + zone));
        rdata.AddRange(EncodeName("hostmaster." + zone));
        var numbers = new byte[20];
        BinaryPrimitives.WriteUInt32BigEndian(numbers, 1);
        rdata.AddRange(numbers);
        Add(zone, TypeSoa, [.. rdata]);
        Zone = zone;
    }

    private void Add(string name, ushort type, byte[] rdata) => _records.GetOrAdd((Key(name), type), _ => []).Add(rdata);

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult request;
            try
            {
                request = await _socket.ReceiveAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            var response = Answer(request.Buffer);
            await _socket.SendAsync(response, request.RemoteEndPoint, _stop.Token);
        }
    }

    private byte[] Answer(byte[] query)
    {
        var position = 12;
        var labels = new List<string>();
        while (query[position] != 0)
        {
            labels.Add(Encoding.ASCII.GetString(query, position + 1, query[position]));
            position += query[position] + 1;
        }

        var questionEnd = position + 5;
        var name = string.Join('.', labels);
        var type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(position + 1));
        if (type == TypeTxt)
        {
            Interlocked.Increment(ref TxtQueries);
        }

        var answers = new List<byte[]>();
        var authority = new List<byte[]>();
        var rcode = 0;
        if (_records.TryGetValue((Key(name), type), out var exact))
        {
            answers.AddRange(exact.Select(rdata => Record(name, type, rdata)));
        }
        else if (_records.TryGetValue((Key(name), TypeCname), out var alias))
        {
            answers.AddRange(alias.Select(rdata => Record(name, TypeCname, rdata)));
        }
        else if (Zone is { } zone && _records.TryGetValue((Key(zone), TypeSoa), out var soa))
        {
            authority.Add(Record(zone, TypeSoa, soa[0]));
            rcode = _records.Keys.Any(k => k.Name == Key(name)) ? 0 : 3; // NODATA or NXDOMAIN
        }

        var response = new List<byte>(query[..2]);
        response.AddRange([0x84, (byte)rcode]); // QR, AA, RD=0 / rcode
        response.AddRange([0, 1, 0, (byte)answers.Count, 0, (byte)authority.Count, 0, 0]);
        response.AddRange(query[12..questionEnd]);
        foreach (var record in answers.Concat(authority))
        {
            response.AddRange(record);
        }

        return [.. response];
    }

    private static byte[] Record(string name, ushort type, byte[] rdata)
    {
        var record = new List<byte>(EncodeName(name));
        record.AddRange([(byte)(type >> 8), (byte)type, 0, 1, 0, 0, 0, 0, (byte)(rdata.Length >> 8), (byte)rdata.Length]);
        record.AddRange(rdata);
        return [.. record];
    }

    private static byte[] EncodeName(string name)
    {
        var bytes = new List<byte>();
        foreach (var label in name.TrimEnd('.').Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return [.. bytes];
    }

    private static string Key(string name) => name.TrimEnd('.').ToLowerInvariant();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
