using Sndctl.Provisioning.Core;
using Microsoft.Extensions.DependencyInjection;
using System.Net;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// The DNS side of DNS-01: follows <c>_acme-challenge</c> CNAME delegation, and waits until every
/// authoritative nameserver of the zone (or every configured nameserver) answers the TXT value, so
/// the CA's validator cannot reach a server that has not seen it yet.
/// </summary>
internal sealed partial class DnsPropagation
{
    private const int MaxCnameHops = 8;
    private readonly IOptionsMonitor<AcmeIssuerOptions> _options;
    private readonly ILogger<DnsPropagation> _logger;
    private readonly LookupClient _recursive;
    private readonly LookupClient _direct;
    private readonly IReadOnlyList<NameServer> _configured;

    private readonly TimeProvider _time;
    private readonly AcmeMetrics _metrics;

    public DnsPropagation(
        IOptionsMonitor<AcmeIssuerOptions> options,
        [FromKeyedServices(RemoteTime.ServiceKey)] TimeProvider time,
        AcmeMetrics metrics,
        ILogger<DnsPropagation> logger)
    {
        _time = time;
        _metrics = metrics;
        _options = options;
        _logger = logger;
        _configured = [.. options.CurrentValue.PropagationNameservers.Select(ParseNameServer)];
        NameServer[] resolvers = _configured.Count > 0 ? [.. _configured] : [.. options.CurrentValue.Resolvers.Select(ParseNameServer)];
        var recursive = resolvers.Length > 0 ? new LookupClientOptions(resolvers) : new LookupClientOptions();
        recursive.UseCache = false;
        recursive.Timeout = TimeSpan.FromSeconds(3);
        recursive.Retries = 1;
        recursive.ThrowDnsErrors = false;
        recursive.ContinueOnDnsError = false;
        _recursive = new LookupClient(recursive);

        var direct = _configured.Count > 0 ? new LookupClientOptions([.. _configured]) : new LookupClientOptions();
        direct.UseCache = false;
        direct.Recursion = false;
        direct.Timeout = TimeSpan.FromSeconds(3);
        direct.Retries = 1;
        direct.ThrowDnsErrors = false;
        direct.ContinueOnDnsError = false;
        _direct = new LookupClient(direct);
    }

    /// <summary>
    /// Where the TXT record for <paramref name="challengeName"/> must be written: the name itself, or
    /// the end of its CNAME chain when the zone delegates <c>_acme-challenge</c> elsewhere.
    /// </summary>
    public async Task<string> ResolveTargetAsync(string challengeName, CancellationToken cancellationToken)
    {
        var name = challengeName;
        for (var hop = 0; hop < MaxCnameHops; hop++)
        {
            var response = await _recursive.QueryAsync(name, QueryType.CNAME, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            var cname = response.Answers.CnameRecords().FirstOrDefault(r => Same(r.DomainName.Value, name));
            if (cname is null)
            {
                return name;
            }

            var target = cname.CanonicalName.Value.TrimEnd('.');
            Log.FollowingCname(_logger, name, target);
            name = target;
        }

        throw new DnsPropagationException($"The CNAME chain from '{challengeName}' is longer than {MaxCnameHops} hops (a loop?).");
    }

    /// <summary>Waits until every nameserver to check answers <paramref name="value"/> at <paramref name="name"/>.</summary>
    /// <exception cref="DnsPropagationException">Not every server answered it within the propagation timeout.</exception>
    public async Task WaitForTxtAsync(string name, string value, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        var started = _time.GetTimestamp();
        using var deadline = new CancellationTokenSource(options.PropagationTimeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        IReadOnlyList<NameServer> servers = [];
        var confirmed = Array.Empty<bool>();
        var delay = TimeSpan.FromMilliseconds(50);
        try
        {
            servers = _configured.Count > 0 ? _configured : await AuthoritativeServersAsync(name, timeout.Token).ConfigureAwait(false);
            confirmed = new bool[servers.Count];
            while (true)
            {
                // A server that has answered the value keeps it (records are removed only after validation),
                // so each round asks only the servers still missing it; a lost or slow answer is asked again.
                var pending = Enumerable.Range(0, servers.Count).Where(i => !confirmed[i]).ToList();
                var answers = await Task.WhenAll(pending.Select(i => HasValueAsync(servers[i], name, value, timeout.Token))).ConfigureAwait(false);
                for (var j = 0; j < pending.Count; j++)
                {
                    confirmed[pending[j]] |= answers[j];
                }

                if (confirmed.All(c => c))
                {
                    _metrics.PropagationDuration.Record(_time.GetElapsedTime(started).TotalSeconds);
                    return;
                }

                await Task.Delay(delay, _time, timeout.Token).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.PropagationMaxInterval.Ticks));
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var which = string.Join(", ", servers.Where((_, i) => i >= confirmed.Length || !confirmed[i]).Select(s => s.ToString()));
            throw new DnsPropagationException(
                $"The TXT record '{name}' did not reach every nameserver within {options.PropagationTimeout.TotalSeconds:0.#} s (still missing at: {(which.Length == 0 ? "the zone's nameservers" : which)}). Check the DNS provider placed it in the zone those servers serve.",
                ex);
        }
    }

    private async Task<bool> HasValueAsync(NameServer server, string name, string value, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _direct.QueryServerAsync([server], name, QueryType.TXT, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            return response.Answers.TxtRecords().Any(r => r.Text.Any(t => string.Equals(t, value, StringComparison.Ordinal)));
        }
        catch (DnsResponseException)
        {
            return false;
        }
    }

    /// <summary>The zone's nameservers: the SOA in the answer (or authority section) names the zone, NS records its servers.</summary>
    private async Task<IReadOnlyList<NameServer>> AuthoritativeServersAsync(string name, CancellationToken cancellationToken)
    {
        var soaResponse = await _recursive.QueryAsync(name, QueryType.SOA, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        var soa = soaResponse.Answers.SoaRecords().FirstOrDefault() ?? soaResponse.Authorities.SoaRecords().FirstOrDefault()
            ?? throw new DnsPropagationException($"No SOA record found for '{name}': cannot tell which zone holds it. Set PropagationNameservers.");
        var zone = soa.DomainName.Value;
        var nsResponse = await _recursive.QueryAsync(zone, QueryType.NS, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        var servers = new List<NameServer>();
        foreach (var ns in nsResponse.Answers.NsRecords())
        {
            var host = ns.NSDName.Value;
            foreach (var type in new[] { QueryType.A, QueryType.AAAA })
            {
                var addresses = await _recursive.QueryAsync(host, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
                servers.AddRange(addresses.Answers.OfType<AddressRecord>().Select(a => new NameServer(a.Address, _options.CurrentValue.AuthoritativePort)));
            }
        }

        if (servers.Count == 0)
        {
            throw new DnsPropagationException($"The zone '{zone.TrimEnd('.')}' has no resolvable NS records. Set PropagationNameservers.");
        }

        Log.CheckingZone(_logger, zone.TrimEnd('.'), servers.Count);
        return servers;
    }

    internal static NameServer ParseNameServer(string text)
    {
        if (IPEndPoint.TryParse(text, out var endpoint))
        {
            return new NameServer(endpoint.Address, endpoint.Port == 0 ? 53 : endpoint.Port);
        }

        var colon = text.LastIndexOf(':');
        var (host, port) = colon > 0 && int.TryParse(text.AsSpan(colon + 1), out var p) ? (text[..colon], p) : (text, 53);
        var address = Dns.GetHostAddresses(host).FirstOrDefault()
            ?? throw new ArgumentException($"The nameserver '{text}' does not resolve.", nameof(text));
        return new NameServer(address, port);
    }

    private static bool Same(string dnsName, string name) => string.Equals(dnsName.TrimEnd('.'), name.TrimEnd('.'), StringComparison.OrdinalIgnoreCase);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "{Name} is a CNAME to {Target}; placing the TXT record there.")]
        public static partial void FollowingCname(ILogger logger, string name, string target);

        [LoggerMessage(2, LogLevel.Debug, "Checking TXT propagation on the {Count} nameservers of zone {Zone}.")]
        public static partial void CheckingZone(ILogger logger, string zone, int count);
    }
}

/// <summary>A DNS-01 record could not be placed or did not propagate in time.</summary>
internal sealed class DnsPropagationException(string message, Exception? innerException = null) : Exception(message, innerException);
