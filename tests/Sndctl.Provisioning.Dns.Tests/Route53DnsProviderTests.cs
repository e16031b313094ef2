using System.Net;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Route53;
using Sndctl.Provisioning.Dns.Route53.Internal;
using Sndctl.Provisioning.Testing;

namespace Sndctl.Provisioning.Dns.Tests;

/// <summary>The Route53 provider against a local server that follows the Route53 API contract and checks every signature.</summary>
public sealed class Route53DnsProviderTests : IAsyncLifetime
{
    private const string KeyId = "AKIAR53TESTKEY000001";
    private const string Secret = "r53/Secret+Key/0123456789abcdefghijKLMNOP";
    private const string Name = "_acme-challenge.a1b2c3d4e5f6.devices.example.com";
    private static readonly string[] AllActions = ["route53:ListHostedZonesByName", "route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets", "route53:GetChange"];
    private static readonly XNamespace Ns = FakeRoute53.Ns;
    private readonly CapturedLogs _logs = new();
    private FakeRoute53 _route53 = null!;
    private string _zone = null!;

    public async ValueTask InitializeAsync()
    {
        _route53 = await FakeRoute53.StartAsync();
        _route53.Keys[KeyId] = (Secret, AllActions, null);
        _route53.AddZone("example.com");
        _route53.AddZone("devices.example.com", isPrivate: true);
        _zone = _route53.AddZone("devices.example.com");
        _route53.AddZone("devices.example.com", isPrivate: true);
        _route53.AddZone("other.example.net");
    }

    public async ValueTask DisposeAsync() => await _route53.DisposeAsync();

    [Fact]
    public async Task Address_records_are_upserted_as_whole_sets_in_one_batch_and_a_family_without_addresses_is_deleted()
    {
        await using var services = Services();
        var dns = Provider(services);
        const string host = "a1b2c3d4e5f6.devices.example.com";

        await dns.SetAddressRecordsAsync(host, [IPAddress.Parse("192.168.1.23"), IPAddress.Parse("192.168.1.24"), IPAddress.Parse("fd00::23")], Ct);
        Assert.Equal(["A 60 192.168.1.23", "A 60 192.168.1.24", "AAAA 60 fd00::23"], _route53.AddressesAt(_zone, host));
        var post = Assert.Single(_route53.Requests, r => r.Method == "POST");
        var changes = XDocument.Parse(post.Body).Descendants(Ns + "Change").ToList();
        Assert.Equal(["UPSERT", "UPSERT"], changes.Select(c => (string?)c.Element(Ns + "Action")));

        await dns.SetAddressRecordsAsync(host, [IPAddress.Parse("10.0.0.7")], Ct);
        Assert.Equal(["A 60 10.0.0.7"], _route53.AddressesAt(_zone, host));
        var second = XDocument.Parse(_route53.Requests.Last(r => r.Method == "POST").Body).Descendants(Ns + "Change").ToList();
        Assert.Equal(["UPSERT", "DELETE"], second.Select(c => (string?)c.Element(Ns + "Action")));

        await dns.SetAddressRecordsAsync(host, [], Ct);
        Assert.Empty(_route53.AddressesAt(_zone, host));
        var posts = _route53.Requests.Count(r => r.Method == "POST");
        await dns.SetAddressRecordsAsync(host, [], Ct);
        Assert.Equal(posts, _route53.Requests.Count(r => r.Method == "POST")); // nothing left to remove: no change sent
    }

    [Fact]
    public async Task Adds_the_value_in_the_longest_public_zone_waits_for_INSYNC_and_removes_it()
    {
        _route53.MaxItems = 1; // Three zones called devices.example.com: the lookup has to page through them.
        await using var services = Services();
        var dns = Provider(services);

        var record = await dns.CreateTxtRecordAsync(Name, "value-1", Ct);

        Assert.Equal(_zone, record.ProviderId);
        Assert.Equal(["\"value-1\""], _route53.TxtAt(_zone, Name));
        Assert.Equal(60, _route53.TtlAt(_zone, Name));
        var requests = _route53.Requests.ToList();
        Assert.Contains(requests, r => r.RawTarget.StartsWith("/2013-04-01/hostedzonesbyname?dnsname=devices.example.com", StringComparison.Ordinal) && r.RawTarget.Contains("&hostedzoneid=", StringComparison.Ordinal));
        Assert.DoesNotContain(requests, r => r.RawTarget.StartsWith("/2013-04-01/hostedzonesbyname?dnsname=example.com", StringComparison.Ordinal));
        var post = Assert.Single(requests, r => r.Method == "POST");
        Assert.Equal($"/2013-04-01/hostedzone/{_zone}/rrset", post.RawTarget);
        Assert.Equal("application/xml", post.ContentType);
        var change = Assert.Single(XDocument.Parse(post.Body).Root!.Element(Ns + "ChangeBatch")!.Element(Ns + "Changes")!.Elements(Ns + "Change"));
        Assert.Equal("CREATE", (string?)change.Element(Ns + "Action"));
        Assert.Equal(Name + ".", (string?)change.Element(Ns + "ResourceRecordSet")!.Element(Ns + "Name"));
        Assert.Equal("\"value-1\"", (string?)change.Descendants(Ns + "Value").Single());
        // Answered only after GetChange said INSYNC (the fake says PENDING twice first).
        Assert.Equal(3, requests.SkipWhile(r => r.Method != "POST").Count(r => r.RawTarget.StartsWith("/2013-04-01/change/C", StringComparison.Ordinal)));
        Assert.StartsWith("/2013-04-01/change/", requests[^1].RawTarget, StringComparison.Ordinal);

        await dns.DeleteTxtRecordAsync(record, Ct);

        Assert.Empty(_route53.TxtAt(_zone, Name));
        var delete = XDocument.Parse(_route53.Requests.Last(r => r.Method == "POST").Body).Descendants(Ns + "Change").Single();
        Assert.Equal("DELETE", (string?)delete.Element(Ns + "Action"));
    }

    [Fact]
    public async Task Merges_with_values_already_at_the_name_and_removes_only_its_own()
    {
        _route53.Put(_zone, Name, "TXT", 300, "\"someone-else\"");
        await using var services = Services(o => o.HostedZoneId = "/hostedzone/" + _zone);
        var dns = Provider(services);

        var record = await dns.CreateTxtRecordAsync(Name, "ours", Ct);

        Assert.Equal(["\"someone-else\"", "\"ours\""], _route53.TxtAt(_zone, Name));
        Assert.Equal(60, _route53.TtlAt(_zone, Name));
        var actions = XDocument.Parse(_route53.Requests.Last(r => r.Method == "POST").Body).Descendants(Ns + "Action").Select(a => a.Value);
        Assert.Equal(["DELETE", "CREATE"], actions); // One batch: delete exactly what was read, create the merged set.
        Assert.DoesNotContain(_route53.Requests, r => r.RawTarget.Contains("hostedzonesbyname", StringComparison.Ordinal)); // HostedZoneId given.

        await dns.DeleteTxtRecordAsync(record, Ct);

        Assert.Equal(["\"someone-else\""], _route53.TxtAt(_zone, Name));
        await dns.DeleteTxtRecordAsync(record, Ct); // Gone already: nothing to do, no error.
    }

    [Fact]
    public async Task A_write_by_another_instance_between_read_and_change_is_kept()
    {
        var interleaved = 0;
        await using var services = Services(configureHttpClient: http => http.AddHttpMessageHandler(() => new AfterHandler(response =>
        {
            // Another instance adds its value right after we read the set, before our change arrives.
            if (response.RequestMessage!.RequestUri!.AbsolutePath.EndsWith("/rrset", StringComparison.Ordinal) && response.RequestMessage.Method == HttpMethod.Get && Interlocked.Increment(ref interleaved) == 1)
            {
                _route53.Put(_zone, Name, "TXT", 60, "\"other-instance\"");
            }
        })));
        var dns = Provider(services);

        await dns.CreateTxtRecordAsync(Name, "ours", Ct);

        Assert.Equal(["\"other-instance\"", "\"ours\""], _route53.TxtAt(_zone, Name));
        Assert.Contains(_logs.Lines, l => l.Contains("changed while we changed it", StringComparison.Ordinal));
        Assert.Equal(2, _route53.Requests.Count(r => r.Method == "POST"));
    }

    [Fact]
    public async Task Concurrent_challenges_from_two_instances_keep_every_value()
    {
        await using var first = Services();
        await using var second = Services();

        var records = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Provider(i % 2 == 0 ? first : second).CreateTxtRecordAsync(Name, $"value-{i}", Ct)));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"\"value-{i}\"").Order(), _route53.TxtAt(_zone, Name).Order());

        await Task.WhenAll(records.Where((_, i) => i % 3 != 0).Select((r, i) => Provider(i % 2 == 0 ? first : second).DeleteTxtRecordAsync(r, Ct)));
        Assert.Equal(Enumerable.Range(0, 12).Where(i => i % 3 == 0).Select(i => $"\"value-{i}\"").Order(), _route53.TxtAt(_zone, Name).Order());
    }

    [Fact]
    public async Task Throttling_prior_request_and_server_errors_are_retried_with_backoff()
    {
        await using var services = Services(o => o.MaxRetries = 4);
        var dns = Provider(services);
        _route53.NextThrottling = 1;
        _route53.Next503 = 1;
        _route53.NextPriorRequestNotComplete = 1;

        await dns.CreateTxtRecordAsync(Name, "after-retries", Ct);

        Assert.Equal(["\"after-retries\""], _route53.TxtAt(_zone, Name));
        Assert.Contains(_logs.Lines, l => l.Contains("Route53 answered 400 Throttling", StringComparison.Ordinal));
        Assert.Contains(_logs.Lines, l => l.Contains("Route53 answered 503 ServiceUnavailable", StringComparison.Ordinal));
        Assert.Contains(_logs.Lines, l => l.Contains("Route53 answered 400 PriorRequestNotComplete", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Throttling_that_outlasts_the_retries_is_a_clear_error()
    {
        await using var services = Services(o => o.MaxRetries = 2);
        _route53.NextThrottling = 10;

        var failure = await Assert.ThrowsAsync<Route53ApiException>(() => Provider(services).CreateTxtRecordAsync(Name, "v", Ct));

        Assert.Equal("Throttling", failure.Code);
        Assert.Contains("Route53 kept throttling (Throttling)", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Rate exceeded", failure.Message, StringComparison.Ordinal);
        Assert.NotNull(failure.RequestId);
    }

    [Theory]
    [InlineData("route53:ChangeResourceRecordSets", "AccessDenied", "its IAM policy needs route53:ChangeResourceRecordSets")]
    [InlineData("route53:ListHostedZonesByName", "AccessDenied", "its IAM policy needs route53:ListHostedZonesByName")]
    [InlineData("route53:GetChange", "AccessDenied", "its IAM policy needs route53:GetChange")]
    public async Task A_missing_permission_names_the_IAM_action(string missing, string code, string expected)
    {
        _route53.Keys[KeyId] = (Secret, [.. AllActions.Where(a => a != missing)], null);
        await using var services = Services();

        var failure = await Assert.ThrowsAsync<Route53ApiException>(() => Provider(services).CreateTxtRecordAsync(Name, "v", Ct));

        Assert.Equal(code, failure.Code);
        Assert.Equal(HttpStatusCode.Forbidden, failure.StatusCode);
        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
        Assert.Contains("is not authorized to perform", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(KeyId, "wrong-secret", "SignatureDoesNotMatch")]
    [InlineData("AKIAUNKNOWNKEY000000", Secret, "InvalidClientTokenId")]
    public async Task Wrong_credentials_are_reported_as_such(string keyId, string secret, string code)
    {
        await using var services = Services(o => { o.AccessKeyId = keyId; o.SecretAccessKey = secret; });

        var failure = await Assert.ThrowsAsync<Route53ApiException>(() => Provider(services).CreateTxtRecordAsync(Name, "v", Ct));

        Assert.Equal(code, failure.Code);
        Assert.Contains($"Route53 rejected the credentials ({code})", failure.Message, StringComparison.Ordinal);
        Assert.Empty(_route53.TxtAt(_zone, Name));
    }

    [Fact]
    public async Task Temporary_credentials_send_a_signed_session_token()
    {
        _route53.Keys["ASIAR53TEMPKEY000001"] = (Secret, AllActions, "FwoGZXIvYXdzEXAMPLEsessiontoken");
        await using var services = Services(o => { o.AccessKeyId = "ASIAR53TEMPKEY000001"; o.SessionToken = "FwoGZXIvYXdzEXAMPLEsessiontoken"; });

        await Provider(services).CreateTxtRecordAsync(Name, "temporary", Ct);

        Assert.Equal(["\"temporary\""], _route53.TxtAt(_zone, Name));
        Assert.All(_route53.Requests, r => Assert.Contains("x-amz-security-token", r.Authorization, StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("FwoGZXIvYXdzEXAMPLEsessiontoken", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_zones_and_rejected_batches_are_clear_errors()
    {
        await using (var services = Services(o => o.HostedZoneId = "ZDOESNOTEXIST"))
        {
            var failure = await Assert.ThrowsAsync<Route53ApiException>(() => Provider(services).CreateTxtRecordAsync(Name, "v", Ct));
            Assert.Equal("NoSuchHostedZone", failure.Code);
            Assert.Contains("check Provisioning:Dns:Route53:HostedZoneId", failure.Message, StringComparison.Ordinal);
        }

        await using (var services = Services())
        {
            var failure = await Assert.ThrowsAsync<Route53ApiException>(() => Provider(services).CreateTxtRecordAsync("_acme-challenge.x.elsewhere.org", "v", Ct));
            Assert.Contains("No Route53 hosted zone of this AWS account contains '_acme-challenge.x.elsewhere.org'", failure.Message, StringComparison.Ordinal);
        }

        // A name outside the configured zone: Route53 refuses the batch with an InvalidChangeBatch document.
        var otherZone = _route53.Zones.Single(z => z.Name == "other.example.net.").Id;
        await using (var services = Services(o => o.HostedZoneId = otherZone))
        {
            var failure = await Assert.ThrowsAsync<Route53ApiException>(() => Provider(services).CreateTxtRecordAsync(Name, "v", Ct));
            Assert.Equal("InvalidChangeBatch", failure.Code);
            Assert.Contains($"RRSet with DNS name {Name}. is not permitted in zone other.example.net.", Assert.Single(failure.AwsMessages), StringComparison.Ordinal);
            Assert.Contains("Route53 answered 400 InvalidChangeBatch", failure.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_change_that_never_syncs_times_out_naming_it()
    {
        _route53.PendingPolls = int.MaxValue;
        await using var services = Services(o => { o.SyncTimeout = TimeSpan.FromMilliseconds(300); o.SyncPollInterval = TimeSpan.FromMilliseconds(50); });

        var failure = await Assert.ThrowsAsync<TimeoutException>(() => Provider(services).CreateTxtRecordAsync(Name, "v", Ct));

        Assert.Matches("Route53 change C[0-9]+ was still PENDING", failure.Message);
    }

    [Fact]
    public async Task Self_check_reports_good_credentials_a_wrong_secret_and_a_missing_permission()
    {
        await using (var services = Services())
        {
            var result = await services.GetRequiredService<Route53SelfCheck>().CheckHealthAsync(new HealthCheckContext(), Ct);
            Assert.Equal(HealthStatus.Healthy, result.Status);
            Assert.Contains(_zone, result.Description, StringComparison.Ordinal);
        }

        await using (var services = Services(o => o.SecretAccessKey = "wrong"))
        {
            var check = services.GetRequiredService<Route53SelfCheck>();
            await check.StartAsync(Ct);
            var result = await check.CheckHealthAsync(new HealthCheckContext(), Ct);
            Assert.Equal(HealthStatus.Degraded, result.Status);
            Assert.Contains("SignatureDoesNotMatch", result.Description, StringComparison.Ordinal);
            Assert.Contains(_logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("Route53 DNS check failed", StringComparison.Ordinal));
        }

        _route53.Keys[KeyId] = (Secret, [.. AllActions.Where(a => a != "route53:GetChange")], null);
        await using (var services = Services())
        {
            var result = await services.GetRequiredService<Route53SelfCheck>().CheckHealthAsync(new HealthCheckContext(), Ct);
            Assert.Equal(HealthStatus.Degraded, result.Status);
            Assert.Contains("route53:GetChange", result.Description, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Credentials_come_from_the_environment_when_the_options_have_none()
    {
        var saved = (Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"), Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY"), Environment.GetEnvironmentVariable("AWS_SESSION_TOKEN"));
        try
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", KeyId);
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", Secret);
            Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
            await using (var services = Services(o => { o.AccessKeyId = null; o.SecretAccessKey = null; }))
            {
                await Provider(services).CreateTxtRecordAsync(Name, "from-environment", Ct);
                Assert.Equal(["\"from-environment\""], _route53.TxtAt(_zone, Name));
            }

            var result = new Route53DnsOptionsValidator().Validate(null, new Route53DnsOptions { AccessKeyId = KeyId });
            Assert.Contains(result.Failures!, f => f.Contains("set both AccessKeyId and SecretAccessKey", StringComparison.Ordinal));
        }
        finally
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", saved.Item1);
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", saved.Item2);
            Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", saved.Item3);
        }
    }

    [Fact]
    public async Task Start_up_refuses_half_configured_credentials()
    {
        await using var services = Services(o => o.SecretAccessKey = null);

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<Route53DnsOptions>>().Value);

        Assert.Contains("set both AccessKeyId and SecretAccessKey", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_secret_key_never_appears_in_logs_or_errors()
    {
        await using var services = Services();
        var dns = Provider(services);
        _route53.NextThrottling = 1;
        var record = await dns.CreateTxtRecordAsync(Name, "v", Ct);
        await dns.DeleteTxtRecordAsync(record, Ct);
        await services.GetRequiredService<Route53SelfCheck>().StartAsync(Ct);
        _route53.Keys[KeyId] = (Secret, ["route53:GetChange"], null);
        var failure = await Assert.ThrowsAsync<Route53ApiException>(() => dns.CreateTxtRecordAsync(Name, "v", Ct));

        Assert.NotEmpty(_logs.Lines);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(Secret, StringComparison.Ordinal));
        Assert.DoesNotContain(Secret, failure.ToString(), StringComparison.Ordinal);
    }

    private ServiceProvider Services(Action<Route53DnsOptions>? configure = null, Action<IHttpClientBuilder>? configureHttpClient = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(_logs.Provider()).SetMinimumLevel(LogLevel.Trace));
        SeamPlaceholders.Add(services);
        services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com")
            .UseRoute53Dns(
                o =>
                {
                    o.AccessKeyId = KeyId;
                    o.SecretAccessKey = Secret;
                    o.ServiceUrl = _route53.ServiceUrl;
                    o.SyncPollInterval = TimeSpan.FromMilliseconds(20);
                    o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
                    configure?.Invoke(o);
                },
                configureHttpClient);
        return services.BuildServiceProvider();
    }

    private static IDnsProvider Provider(ServiceProvider services) => services.CreateScope().ServiceProvider.GetRequiredService<IDnsProvider>();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Runs an action on each response before the client sees it.</summary>
    private sealed class AfterHandler(Action<HttpResponseMessage> after) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            after(response);
            return response;
        }
    }
}
