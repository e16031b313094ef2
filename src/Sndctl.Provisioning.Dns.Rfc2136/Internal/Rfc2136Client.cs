using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using ARSoft.Tools.Net.Dns.DynamicUpdate;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Dns.Rfc2136.Internal;

/// <summary>
/// Dynamic updates (RFC 2136) signed with TSIG (RFC 8945) to one primary server, over UDP with TCP when the answer
/// is truncated (ARSoft.Tools.Net's client and message formats), and the zone of a name from the server's SOA answer
/// (kept per name for the process). Refusals are <see cref="Rfc2136UpdateException"/>s that say what to fix.
/// </summary>
internal sealed class Rfc2136Client(IOptionsMonitor<Rfc2136DnsOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DomainName> _zones = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Sends the updates of <paramref name="build"/> for the zone of <paramref name="name"/>, signed; throws unless the server says NOERROR.</summary>
    public async Task UpdateAsync(string name, Action<DnsUpdateMessage, DomainName> build, CancellationToken cancellationToken)
    {
        var zone = await ZoneOfAsync(name, cancellationToken).ConfigureAwait(false);
        var message = new DnsUpdateMessage { ZoneName = zone };
        build(message, DomainName.Parse(name));
        await SendAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A signed update that changes nothing (its only prerequisite: the zone's apex exists): proves the key and the server's update ACL.</summary>
    public async Task<DomainName> NoOpUpdateAsync(string name, CancellationToken cancellationToken)
    {
        var zone = await ZoneOfAsync(name, cancellationToken).ConfigureAwait(false);
        var message = new DnsUpdateMessage { ZoneName = zone };
        message.Prequisites.Add(new NameIsInUsePrequisite(zone));
        await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return zone;
    }

    /// <summary>The configured zone, else the owner of the SOA record the server answers for <paramref name="name"/> (answer or authority section).</summary>
    public async Task<DomainName> ZoneOfAsync(string name, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        if (!string.IsNullOrWhiteSpace(o.Zone))
        {
            return DomainName.Parse(o.Zone.TrimEnd('.'));
        }

        if (_zones.TryGetValue(name, out var known))
        {
            return known;
        }

        using var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
        DnsMessage? answer;
        try
        {
            answer = await client.ResolveAsync(DomainName.Parse(name), RecordType.Soa, RecordClass.INet, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            throw new Rfc2136UpdateException($"The DNS server {o.Server} did not answer the SOA query for {name} ({ex.Message}).", innerException: ex);
        }

        if (answer is null)
        {
            throw new Rfc2136UpdateException($"The DNS server {o.Server} did not answer the SOA query for {name} within {o.Timeout.TotalSeconds:0} s.");
        }

        var soa = answer.AnswerRecords.Concat(answer.AuthorityRecords).OfType<SoaRecord>().FirstOrDefault()
            ?? throw new Rfc2136UpdateException($"The DNS server {o.Server} answered {answer.ReturnCode} with no SOA record for {name}: it is not authoritative for a zone holding it; set Provisioning:Dns:Rfc2136:Zone or point Server at the zone's primary.", answer.ReturnCode.ToString().ToUpperInvariant());
        if (_zones.Count >= 10_000)
        {
            _zones.Clear(); // device names are many; the zone is found again with one query
        }

        return _zones[name] = soa.Name;
    }

    private async Task SendAsync(DnsUpdateMessage message, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        message.TransactionID = (ushort)System.Security.Cryptography.RandomNumberGenerator.GetInt32(1, 0xffff);
        message.TSigOptions = new TSigRecord(
            DomainName.Parse(o.TsigKeyName),
            Algorithm(o.TsigAlgorithm),
            time.GetUtcNow().UtcDateTime,
            TimeSpan.FromSeconds(300),
            message.TransactionID,
            ReturnCode.NoError,
            null,
            Convert.FromBase64String(o.TsigSecret));
        using var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
        DnsUpdateMessage? response;
        try
        {
            response = await client.SendUpdateAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            throw new Rfc2136UpdateException($"The DNS server {o.Server} did not take the update for {message.ZoneName} ({ex.Message}).", innerException: ex);
        }

        if (response is null)
        {
            throw new Rfc2136UpdateException($"The DNS server {o.Server} did not answer the update for {message.ZoneName} within {o.Timeout.TotalSeconds:0} s.");
        }

        var tsigError = response.TSigOptions is { Error: not ReturnCode.NoError } tsig ? TsigName(tsig.Error) : null;
        if (response.ReturnCode != ReturnCode.NoError || tsigError is not null)
        {
            var code = RcodeName(response.ReturnCode);
            throw new Rfc2136UpdateException(Explain(o, message.ZoneName, code, tsigError), code, tsigError);
        }

        if (response.TSigOptions is not { ValidationResult: ReturnCode.NoError })
        {
            // NOERROR without a valid signature: not the answer of a server holding the key.
            throw new Rfc2136UpdateException($"The answer of {o.Server} to the update for {message.ZoneName} is not signed with the key {o.TsigKeyName}; refusing to trust it.", responseCode: "NOERROR", tsigError: "UNSIGNED");
        }
    }

    private static string Explain(Rfc2136DnsOptions o, DomainName zone, string code, string? tsigError) => (code, tsigError) switch
    {
        (_, "BADSIG") => $"The DNS server {o.Server} refused the update for {zone}: BADSIG, the TSIG secret of key '{o.TsigKeyName}' is not the server's (Provisioning:Dns:Rfc2136:TsigSecret).",
        (_, "BADKEY") => $"The DNS server {o.Server} refused the update for {zone}: BADKEY, it knows no key '{o.TsigKeyName}' with algorithm {o.TsigAlgorithm} (Provisioning:Dns:Rfc2136:TsigKeyName, :TsigAlgorithm).",
        (_, "BADTIME") => $"The DNS server {o.Server} refused the update for {zone}: BADTIME, this machine's clock and the server's differ by more than 5 minutes.",
        ("REFUSED", _) => $"The DNS server {o.Server} refused the update for {zone} (REFUSED): its update ACL or update-policy does not allow key '{o.TsigKeyName}' to change these names (docs/dns.md).",
        ("NOTAUTH", _) => $"The DNS server {o.Server} is not authoritative for {zone} (NOTAUTH{(tsigError is null ? "" : ", " + tsigError)}): point Provisioning:Dns:Rfc2136:Server at the zone's primary, or check Zone.",
        ("NOTZONE", _) => $"The DNS server {o.Server} says a name is outside zone {zone} (NOTZONE): check Provisioning:Dns:Rfc2136:Zone.",
        _ => $"The DNS server {o.Server} answered the update for {zone} with {code}{(tsigError is null ? "" : " (" + tsigError + ")")}.",
    };

    private static string RcodeName(ReturnCode code) => code switch
    {
        ReturnCode.NoError => "NOERROR",
        ReturnCode.FormatError => "FORMERR",
        ReturnCode.ServerFailure => "SERVFAIL",
        ReturnCode.NxDomain => "NXDOMAIN",
        ReturnCode.NotImplemented => "NOTIMP",
        ReturnCode.Refused => "REFUSED",
        ReturnCode.YXDomain => "YXDOMAIN",
        ReturnCode.YXRRSet => "YXRRSET",
        ReturnCode.NXRRSet => "NXRRSET",
        ReturnCode.NotAuthoritive => "NOTAUTH",
        ReturnCode.NotZone => "NOTZONE",
        _ => code.ToString().ToUpperInvariant(),
    };

    private static string TsigName(ReturnCode code) => code switch
    {
        ReturnCode.BadSig => "BADSIG",
        ReturnCode.BadKey => "BADKEY",
        ReturnCode.BadTime => "BADTIME",
        ReturnCode.BadTrunc => "BADTRUNC",
        _ => RcodeName(code),
    };

    /// <summary>The TSIG algorithm by its configuration name.</summary>
    public static TSigAlgorithm Algorithm(string name) => name.ToLowerInvariant() switch
    {
        "hmac-sha256" => TSigAlgorithm.Sha256,
        "hmac-sha512" => TSigAlgorithm.Sha512,
        _ => throw new ArgumentException($"TSIG algorithm '{name}' is not supported: use hmac-sha256 or hmac-sha512.", nameof(name)),
    };

    private async Task<DnsClient> ClientAsync(CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var (host, port) = ParseServer(o.Server);
        var addresses = IPAddress.TryParse(host, out var address) ? [address] : await System.Net.Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new Rfc2136UpdateException($"The DNS server name {host} has no address.");
        }

        return new DnsClient(addresses, [new UdpClientTransport(port), new TcpClientTransport(port)], disposeTransport: true, queryTimeout: (int)o.Timeout.TotalMilliseconds)
        {
            IsResponseValidationEnabled = true,
        };
    }

    /// <summary><c>host</c>, <c>host:port</c>, <c>[v6]:port</c> or a bare IPv6 address; port 53 by default.</summary>
    public static (string Host, int Port) ParseServer(string server)
    {
        if (IPAddress.TryParse(server, out var bare))
        {
            return (bare.ToString(), 53);
        }

        if (server.StartsWith('[') && server.IndexOf(']', StringComparison.Ordinal) is var close and > 0)
        {
            var rest = server[(close + 1)..];
            return (server[1..close], rest.StartsWith(':') && int.TryParse(rest[1..], out var v6Port) ? v6Port : 53);
        }

        var colon = server.LastIndexOf(':');
        return colon > 0 && int.TryParse(server[(colon + 1)..], out var port) ? (server[..colon], port) : (server, 53);
    }
}
