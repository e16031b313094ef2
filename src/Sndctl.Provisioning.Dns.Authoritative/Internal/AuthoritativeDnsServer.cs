using System.Net;
using ARSoft.Tools.Net.Dns;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// Listens on the configured endpoints (UDP and TCP each) and answers from <see cref="ZoneCache"/>: over UDP the
/// common queries on our own receive loop (<see cref="UdpTransport"/>, <see cref="FastAnswer"/>), everything else
/// through <see cref="ZoneResponder"/>, with ARSoft.Tools.Net reading and writing the wire format, dropping
/// packets it cannot parse and truncating UDP answers that do not fit (TC bit: the client asks again over TCP).
/// </summary>
internal sealed partial class AuthoritativeDnsServer(
    ZoneCache cache,
    IOptions<AuthoritativeDnsOptions> options,
    IOptions<DeviceProvisioningOptions> provisioning,
    TimeProvider time,
    DnsServerMetrics metrics,
    ILogger<AuthoritativeDnsServer> logger) : IHostedService, IHealthCheck, IDisposable
{
    private DnsServer? _server;
    private ZoneSettings? _zone;

    /// <summary>The endpoints bound, as configured (port 0 is not resolved: configure fixed ports).</summary>
    public IReadOnlyList<IPEndPoint> Endpoints { get; private set; } = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        _zone = new ZoneSettings(provisioning.Value.BaseDomain, settings);
        Endpoints = (settings.Endpoints.Count > 0 ? [.. settings.Endpoints] : AuthoritativeDnsOptions.DefaultEndpoints).Select(IPEndPoint.Parse).ToList();
        var limiter = new ResponseRateLimiter(settings.ResponsesPerSecond, settings.RateLimitSlip, settings.RateLimitTableSize, time);
        var fast = new FastAnswer(_zone);
        var transports = Endpoints
            .SelectMany(e => new IServerTransport[]
            {
                new UdpTransport(e, () => cache.Current, fast, limiter, metrics),
                new TcpTransport(e, settings.MaxTcpConnections, settings.MaxTcpConnectionsPerClient, settings.TcpIdleTimeout, metrics.Limited),
            })
            .ToArray();
        var server = new DnsServer(transports);
        server.QueryReceived += OnQueryAsync;
        server.ExceptionThrown += OnExceptionAsync;
        try
        {
            server.Start();
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            foreach (var transport in transports)
            {
                transport.Dispose();
            }

            throw new InvalidOperationException(
                $"The authoritative DNS server cannot listen on {string.Join(", ", Endpoints)}: {ex.Message}. Port 53 needs CAP_NET_BIND_SERVICE (or map an unprivileged port to it); set Provisioning:Dns:Authoritative:Endpoints to change the addresses.",
                ex);
        }

        _server = server;
        Log.Listening(logger, _zone.Zone, string.Join(", ", Endpoints));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _server?.Stop();
        _server = null;
        return Task.CompletedTask;
    }

    public void Dispose() => _server?.Stop();

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var checkedAt = cache.CheckedAt;
        var stale = options.Value.RefreshInterval * 30 + TimeSpan.FromSeconds(30);
        return Task.FromResult(
            _server is null ? HealthCheckResult.Unhealthy("The authoritative DNS server is not listening.")
            : cache.Current is not { } snapshot ? HealthCheckResult.Unhealthy("The zone has not been read from the database yet; queries get SERVFAIL.")
            : checkedAt is null || time.GetUtcNow() - checkedAt > stale ? HealthCheckResult.Degraded($"The zone was last read from the database at {checkedAt:O}; answers may be stale.")
            : HealthCheckResult.Healthy($"Answering {_zone!.Zone} on {string.Join(", ", Endpoints)} ({snapshot.RecordCount} records, serial {snapshot.Serial})."));
    }

    private Task OnQueryAsync(object sender, QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage { IsQuery: true } query)
        {
            // Responses, updates and notifies are not ours to answer; the library then sends SERVFAIL.
            metrics.Dropped();
            return Task.CompletedTask;
        }

        var response = ZoneResponder.Answer(query, cache.Current, _zone!);
        metrics.Answered(e.TransportProtocol, response.ReturnCode);
        e.Response = response;
        return Task.CompletedTask;
    }

    private Task OnExceptionAsync(object sender, ExceptionEventArgs e)
    {
        // Malformed packets land here (the library drops them); counted, not logged: a flood must not flood the log.
        metrics.Dropped();
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Authoritative DNS for {Zone} listening on {Endpoints} (UDP and TCP).")]
        public static partial void Listening(ILogger logger, string zone, string endpoints);
    }
}
