using System.Diagnostics.Metrics;
using ARSoft.Tools.Net.Dns;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>The embedded DNS server's instruments (meter <see cref="MeterName"/>).</summary>
internal sealed class DnsServerMetrics(IMeterFactory meterFactory)
{
    public const string MeterName = "Sndctl.Provisioning.Dns.Authoritative";

    private readonly Counter<long> _queries = meterFactory.Create(MeterName)
        .CreateCounter<long>("sndctl.dns.queries", description: "DNS queries answered by the embedded authoritative server, by transport and response code.");

    private readonly Counter<long> _dropped = meterFactory.Create(MeterName)
        .CreateCounter<long>("sndctl.dns.dropped", description: "DNS packets dropped without an answer (malformed, or failing to be sent).");

    public void Answered(TransportProtocol transport, ReturnCode code) => _queries.Add(
        1,
        new KeyValuePair<string, object?>("transport", transport == TransportProtocol.Udp ? "udp" : "tcp"),
        new KeyValuePair<string, object?>("rcode", code.ToString()));

    private readonly Counter<long> _limited = meterFactory.Create(MeterName)
        .CreateCounter<long>("sndctl.dns.rate_limited", description: "DNS answers held back: over UDP by response rate limiting (action dropped or slipped: sent truncated), over TCP by the per-client connection limit (action tcp-per-client).");

    private static readonly KeyValuePair<string, object?> Udp = new("transport", "udp");

    private static readonly KeyValuePair<string, object?>[] Codes = [.. Enumerable.Range(0, 16).Select(c => new KeyValuePair<string, object?>("rcode", ((ReturnCode)c).ToString()))];

    /// <summary>An answer of the UDP fast path (no allocation: the tags are made once).</summary>
    public void AnsweredUdp(int returnCode) => _queries.Add(1, Udp, Codes[returnCode & 0x0F]);

    public void Dropped() => _dropped.Add(1);

    public void Limited(string action) => _limited.Add(1, new KeyValuePair<string, object?>("action", action));
}
