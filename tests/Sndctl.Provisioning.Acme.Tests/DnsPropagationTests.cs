using System.Net;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Acme.Internal;

namespace Sndctl.Provisioning.Acme.Tests;

/// <summary>
/// The propagation check and CNAME following, against real DNS over UDP: a fake recursive resolver
/// and two fake authoritative nameservers of the zone on loopback addresses.
/// </summary>
public sealed class DnsPropagationTests : IAsyncLifetime
{
    private const string Zone = "zone.test";
    private const string Name = "_acme-challenge.a1b2c3d4e5f6.devices.zone.test";
    private FakeDnsServer _resolver = null!;
    private FakeDnsServer _ns1 = null!;
    private FakeDnsServer _ns2 = null!;

    private readonly ServiceProvider _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public async ValueTask InitializeAsync()
    {
        // Two authoritative servers on one port (it is how the check asks them), on 127.0.0.2 and .3.
        for (var attempt = 0; ; attempt++)
        {
            _ns1 = new FakeDnsServer(IPAddress.Parse("127.0.0.2"));
            try
            {
                _ns2 = new FakeDnsServer(IPAddress.Parse("127.0.0.3"), _ns1.EndPoint.Port);
                break;
            }
            catch (System.Net.Sockets.SocketException) when (attempt < 5)
            {
                await _ns1.DisposeAsync();
            }
        }

        _resolver = new FakeDnsServer(IPAddress.Loopback);
        _resolver.AddSoa(Zone);
        _resolver.AddNs(Zone, "ns1." + Zone);
        _resolver.AddNs(Zone, "ns2." + Zone);
        _resolver.AddA("ns1." + Zone, IPAddress.Parse("127.0.0.2"));
        _resolver.AddA("ns2." + Zone, IPAddress.Parse("127.0.0.3"));
        _ns1.AddSoa(Zone);
        _ns2.AddSoa(Zone);
    }

    public async ValueTask DisposeAsync()
    {
        await _metrics.DisposeAsync();
        await _resolver.DisposeAsync();
        await _ns1.DisposeAsync();
        await _ns2.DisposeAsync();
    }

    [Fact]
    public async Task Waits_until_every_authoritative_nameserver_answers_the_value()
    {
        var propagation = Create();
        using var durations = new MetricCollector<double>(MeterFactory, "Sndctl.Provisioning.Acme", "sndctl.acme.dns.propagation.duration");
        _ns1.AddTxt(Name, "other-value");
        _ns1.AddTxt(Name, "expected");

        var wait = propagation.WaitForTxtAsync(Name, "expected", TestContext.Current.CancellationToken);
        while (_ns2.TxtQueries < 2)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.False(wait.IsCompleted, "ns2 has not answered the value yet");
        _ns2.AddTxt(Name, "expected");
        await wait.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(1, _ns1.TxtQueries); // Confirmed in the first round, never asked again.
        Assert.Single(durations.GetMeasurementSnapshot()); // On the package's meter, made by the application's IMeterFactory.
    }

    [Fact]
    public async Task Names_the_nameservers_that_never_got_the_value()
    {
        var propagation = Create(o => o.PropagationTimeout = TimeSpan.FromSeconds(2));
        _ns1.AddTxt(Name, "expected");

        var failure = await Assert.ThrowsAsync<DnsPropagationException>(() => propagation.WaitForTxtAsync(Name, "expected", TestContext.Current.CancellationToken));

        Assert.Contains("127.0.0.3", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.2", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configured_nameservers_replace_the_authoritative_ones()
    {
        var propagation = Create(o => o.PropagationNameservers.Add(_ns1.EndPoint.ToString()));
        _ns1.AddTxt(Name, "expected"); // ns2 never gets it, and is not asked.

        await propagation.WaitForTxtAsync(Name, "expected", TestContext.Current.CancellationToken);
        Assert.Equal(0, _ns2.TxtQueries);
    }

    [Fact]
    public async Task Follows_acme_challenge_CNAMEs_to_where_the_record_must_go()
    {
        var propagation = Create();
        _resolver.AddCname(Name, "hop.zone.test");
        _resolver.AddCname("hop.zone.test", "a1b2c3d4e5f6.acme.other.test");

        Assert.Equal("a1b2c3d4e5f6.acme.other.test", await propagation.ResolveTargetAsync(Name, TestContext.Current.CancellationToken));
        Assert.Equal("_acme-challenge.plain.zone.test", await propagation.ResolveTargetAsync("_acme-challenge.plain.zone.test", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_CNAME_loop_is_reported_not_followed_forever()
    {
        var propagation = Create();
        _resolver.AddCname("_acme-challenge.loop.zone.test", "back.zone.test");
        _resolver.AddCname("back.zone.test", "_acme-challenge.loop.zone.test");

        var failure = await Assert.ThrowsAsync<DnsPropagationException>(() => propagation.ResolveTargetAsync("_acme-challenge.loop.zone.test", TestContext.Current.CancellationToken));
        Assert.Contains("loop", failure.Message, StringComparison.Ordinal);
    }

    private IMeterFactory MeterFactory => _metrics.GetRequiredService<IMeterFactory>();

    private DnsPropagation Create(Action<AcmeIssuerOptions>? configure = null)
    {
        var options = new AcmeIssuerOptions { AuthoritativePort = _ns1.EndPoint.Port, PropagationMaxInterval = TimeSpan.FromMilliseconds(50) };
        options.Resolvers.Add(_resolver.EndPoint.ToString());
        configure?.Invoke(options);
        return new DnsPropagation(new StaticOptions(options), TimeProvider.System, new AcmeMetrics(MeterFactory, TimeProvider.System), NullLogger<DnsPropagation>.Instance);
    }

    private sealed class StaticOptions(AcmeIssuerOptions value) : IOptionsMonitor<AcmeIssuerOptions>
    {
        public AcmeIssuerOptions CurrentValue => value;

        public AcmeIssuerOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<AcmeIssuerOptions, string?> listener) => null;
    }
}
