using Polly;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Cloudflare;
using Sndctl.Provisioning.Dns.Cloudflare.Internal;
using Sndctl.Provisioning.Testing;

namespace Sndctl.Provisioning.Dns.Tests;

/// <summary>The Cloudflare provider against a local server that follows the Cloudflare API v4 contract.</summary>
public sealed class CloudflareDnsProviderTests : IAsyncLifetime
{
    private const string Token = "cf-test-token-0123456789abcdefghijklmnop";
    private const string Name = "_acme-challenge.a1b2c3d4e5f6.devices.example.com";
    private FakeCloudflare _cloudflare = null!;
    private string _parentZone = null!;
    private string _zone = null!;
    private readonly CapturedLogs _logs = new();

    public async ValueTask InitializeAsync()
    {
        _cloudflare = await FakeCloudflare.StartAsync();
        _cloudflare.Tokens[Token] = (["zone:read", "dns:edit"], "active");
        _parentZone = _cloudflare.AddZone("example.com");
        _zone = _cloudflare.AddZone("devices.example.com");
        _cloudflare.AddZone("other.example.net");
    }

    public async ValueTask DisposeAsync() => await _cloudflare.DisposeAsync();

    [Fact]
    public async Task An_issuance_costs_two_API_calls_once_the_zones_are_listed()
    {
        await using var services = Services();
        for (var i = 0; i < 5; i++)
        {
            var before = _cloudflare.Requests.Count;
            var name = $"_acme-challenge.device{i:D4}.devices.example.com";
            var record = await Provider(services).CreateTxtRecordAsync(name, "key-authorization-digest", Ct);
            await Provider(services).DeleteTxtRecordAsync(record, Ct);
            var calls = _cloudflare.Requests.Skip(before).Select(r => $"{r.Method} {r.Path}").ToList();
            Assert.True(calls.Count == (i == 0 ? 3 : 2), string.Join(", ", calls)); // the first issuance also lists the zones
        }
    }

    [Fact]
    public async Task A_zone_deleted_and_added_again_is_found_under_its_new_ID()
    {
        await using var services = Services();
        var first = await Provider(services).CreateTxtRecordAsync(Name, "before", Ct);
        Assert.StartsWith(_zone + "/", first.ProviderId, StringComparison.Ordinal);

        _cloudflare.Zones.RemoveAll(z => z.Id == _zone);
        var again = _cloudflare.AddZone("devices.example.com");
        var second = await Provider(services).CreateTxtRecordAsync(Name, "after", Ct);
        Assert.StartsWith(again + "/", second.ProviderId, StringComparison.Ordinal);
        Assert.Equal(2, _cloudflare.Requests.Count(r => r.Path == "/client/v4/zones"));
    }

    [Fact]
    public async Task Creates_in_the_longest_matching_zone_and_deletes_exactly_that_record()
    {
        await using var services = Services();
        var dns = Provider(services);
        var neighbour = await dns.CreateTxtRecordAsync(Name, "someone-else", Ct);

        var record = await dns.CreateTxtRecordAsync(Name, "value-1", Ct);

        Assert.StartsWith(_zone + "/", record.ProviderId, StringComparison.Ordinal);
        var post = _cloudflare.Requests.Last(r => r.Method == "POST");
        Assert.Equal($"/client/v4/zones/{_zone}/dns_records", post.Path);
        Assert.Equal("Bearer " + Token, post.Authorization);
        Assert.StartsWith("application/json", post.ContentType, StringComparison.Ordinal);
        using var body = JsonDocument.Parse(post.Body);
        Assert.Equal("TXT", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(Name, body.RootElement.GetProperty("name").GetString());
        Assert.Equal("\"value-1\"", body.RootElement.GetProperty("content").GetString());
        Assert.Equal(60, body.RootElement.GetProperty("ttl").GetInt32());
        // The token's zones were listed (once), not looked up name by name.
        Assert.Single(_cloudflare.Requests, r => r.Path == "/client/v4/zones");

        await dns.DeleteTxtRecordAsync(record, Ct);

        Assert.Equal(["\"someone-else\""], _cloudflare.TxtAt(Name).Select(r => r.Content));
        Assert.Equal($"/client/v4/zones/{_zone}/dns_records/{record.ProviderId!.Split('/')[1]}", _cloudflare.Requests.Last().Path);
        await dns.DeleteTxtRecordAsync(neighbour, Ct);
        Assert.Empty(_cloudflare.TxtAt(Name));
    }

    [Fact]
    public async Task Address_records_are_one_DNS_only_record_per_address_and_a_new_set_replaces_the_old()
    {
        await using var services = Services();
        var dns = Provider(services);
        const string host = "a1b2c3d4e5f6.devices.example.com";
        await dns.CreateTxtRecordAsync("_acme-challenge." + host, "keep-me", Ct);

        await dns.SetAddressRecordsAsync(host, [IPAddress.Parse("192.168.1.23"), IPAddress.Parse("fd00::23")], Ct);
        Assert.Equal(["A 192.168.1.23", "AAAA fd00::23"], _cloudflare.AddressesAt(host));
        var created = _cloudflare.Records.Values.Where(r => r.Name == host).ToList();
        Assert.All(created, r => Assert.False(r.Proxied));
        Assert.All(created, r => Assert.Equal(60, r.Ttl));
        Assert.All(_cloudflare.Requests.Where(r => r.Method == "POST" && r.Body.Contains("\"A", StringComparison.Ordinal)), r => Assert.Contains("\"proxied\":false", r.Body, StringComparison.Ordinal));

        // The same set again changes nothing; another set adds the new address first, then removes the stale ones.
        var before = _cloudflare.Requests.Count(r => r.Method != "GET");
        await dns.SetAddressRecordsAsync(host, [IPAddress.Parse("fd00::23"), IPAddress.Parse("192.168.1.23")], Ct);
        Assert.Equal(before, _cloudflare.Requests.Count(r => r.Method != "GET"));
        await dns.SetAddressRecordsAsync(host, [IPAddress.Parse("10.0.0.7"), IPAddress.Parse("10.0.0.8")], Ct);
        Assert.Equal(["A 10.0.0.7", "A 10.0.0.8"], _cloudflare.AddressesAt(host));
        var writes = _cloudflare.Requests.Where(r => r.Method != "GET").Skip(before).Select(r => r.Method).ToList();
        Assert.Equal(["POST", "POST", "DELETE", "DELETE"], writes);

        await dns.SetAddressRecordsAsync(host, [], Ct);
        Assert.Empty(_cloudflare.AddressesAt(host));
        Assert.Single(_cloudflare.TxtAt("_acme-challenge." + host)); // other records at other names untouched
    }

    [Fact]
    public async Task Concurrent_challenges_on_one_name_do_not_clobber_each_other()
    {
        await using var services = Services();
        var dns = Provider(services);

        await dns.DeleteTxtRecordAsync(await dns.CreateTxtRecordAsync(Name, "warm-up", Ct), Ct);
        var zoneLookups = _cloudflare.Requests.Count(r => r.Path == "/client/v4/zones");

        var records = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => dns.CreateTxtRecordAsync(Name, $"value-{i}", Ct)));
        await Task.WhenAll(records.Where((_, i) => i % 2 == 0).Select(r => dns.DeleteTxtRecordAsync(r, Ct)));

        Assert.Equal(
            Enumerable.Range(0, 12).Where(i => i % 2 == 1).Select(i => $"\"value-{i}\"").Order(),
            _cloudflare.TxtAt(Name).Select(r => r.Content).Order());
        Assert.Equal(zoneLookups, _cloudflare.Requests.Count(r => r.Path == "/client/v4/zones")); // The zone was cached.
    }

    [Fact]
    public async Task An_identical_record_is_found_across_pages_and_reused()
    {
        _cloudflare.MaxPerPage = 2;
        await using var services = Services(o => o.ZoneId = _zone);
        var dns = Provider(services);
        for (var i = 0; i < 5; i++)
        {
            await dns.CreateTxtRecordAsync(Name, $"filler-{i}", Ct);
        }

        var first = await dns.CreateTxtRecordAsync(Name, "same", Ct);
        var again = await dns.CreateTxtRecordAsync(Name, "same", Ct);

        Assert.Equal(first.ProviderId, again.ProviderId);
        Assert.Contains(_cloudflare.Requests, r => r.Method == "GET" && r.Query.Contains("page=3", StringComparison.Ordinal));
        Assert.DoesNotContain(_cloudflare.Requests, r => r.Path == "/client/v4/zones"); // ZoneId given: no lookup.
    }

    [Fact]
    public async Task Rate_limits_and_server_errors_are_retried_honouring_Retry_After()
    {
        await using var services = Services(o => o.ZoneId = _zone);
        var dns = Provider(services);
        _cloudflare.Next429 = 2;
        _cloudflare.RetryAfterSeconds = 1;
        var started = DateTimeOffset.UtcNow;

        await dns.CreateTxtRecordAsync(Name, "after-429", Ct);

        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromSeconds(1.9), "two Retry-After: 1 answers were waited out");
        Assert.Single(_cloudflare.TxtAt(Name));
        Assert.Contains(_logs.Lines, l => l.Contains("Cloudflare answered 429", StringComparison.Ordinal));

        _cloudflare.Next500 = 1;
        await dns.CreateTxtRecordAsync(Name, "after-500", Ct);
        Assert.Equal(2, _cloudflare.TxtAt(Name).Count());
    }

    [Fact]
    public async Task Persistent_server_errors_end_in_a_clear_exception()
    {
        await using var services = Services(o => { o.ZoneId = _zone; o.MaxRetries = 1; });
        var dns = Provider(services);
        _cloudflare.Next500 = 5;

        var failure = await Assert.ThrowsAsync<CloudflareApiException>(() => dns.CreateTxtRecordAsync(Name, "v", Ct));

        Assert.Equal(HttpStatusCode.InternalServerError, failure.StatusCode);
        Assert.Contains("10001 Internal Server Error", failure.Message, StringComparison.Ordinal);
        Assert.Contains("creating the TXT record", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-token", new[] { "zone:read", "dns:edit" }, "rejected the API token (401)")]
    [InlineData(Token, new[] { "dns:edit" }, "needs Zone:Read and DNS:Edit")]
    [InlineData(Token, new[] { "zone:read" }, "creating the TXT record")]
    public async Task Auth_failures_say_what_is_missing(string token, string[] permissions, string expected)
    {
        _cloudflare.Tokens[Token] = (permissions, "active");
        await using var services = Services(o => o.ApiToken = token);
        var dns = Provider(services);

        var failure = await Assert.ThrowsAsync<CloudflareApiException>(() => dns.CreateTxtRecordAsync(Name, "v", Ct));

        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
        Assert.True(failure.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden);
        Assert.Empty(_cloudflare.Records);
    }

    [Fact]
    public async Task A_name_in_no_zone_of_the_token_is_a_clear_error()
    {
        await using var services = Services();
        var failure = await Assert.ThrowsAsync<CloudflareApiException>(() => Provider(services).CreateTxtRecordAsync("_acme-challenge.x.elsewhere.org", "v", Ct));
        Assert.Contains("No Cloudflare zone of this token contains", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_record_without_its_handle_is_deleted_by_its_exact_name_and_value()
    {
        // The janitor's case: the process that created the record died before it wrote the record ID down.
        await using var services = Services();
        var dns = Provider(services);
        await dns.CreateTxtRecordAsync(Name, "someone-else", Ct);
        await dns.CreateTxtRecordAsync(Name, "value-1", Ct);

        await dns.DeleteTxtRecordAsync(new DnsTxtRecord(Name, "value-1", ProviderId: null), Ct);
        await dns.DeleteTxtRecordAsync(new DnsTxtRecord(Name, "never-created", ProviderId: null), Ct); // nothing there: nothing to do

        Assert.Equal(["\"someone-else\""], _cloudflare.TxtAt(Name).Select(r => r.Content));
    }

    [Fact]
    public async Task Deleting_a_record_that_is_gone_is_not_an_error()
    {
        await using var services = Services();
        var dns = Provider(services);
        var record = await dns.CreateTxtRecordAsync(Name, "v", Ct);
        _cloudflare.Records.Clear();

        await dns.DeleteTxtRecordAsync(record, Ct);
    }

    [Fact]
    public async Task Self_check_reports_a_good_token_a_wrong_one_and_a_missing_permission()
    {
        await using (var services = Services())
        {
            var result = await services.GetRequiredService<CloudflareSelfCheck>().CheckHealthAsync(new HealthCheckContext(), Ct);
            Assert.Equal(HealthStatus.Healthy, result.Status);
            Assert.Contains("devices.example.com", result.Description, StringComparison.Ordinal);
            Assert.Contains(_cloudflare.Requests, r => r.Path == "/client/v4/user/tokens/verify");
        }

        await using (var services = Services(o => o.ApiToken = "wrong"))
        {
            var check = services.GetRequiredService<CloudflareSelfCheck>();
            await check.StartAsync(Ct);
            var result = await check.CheckHealthAsync(new HealthCheckContext(), Ct);
            Assert.Equal(HealthStatus.Degraded, result.Status);
            Assert.Contains("rejected the API token", result.Description, StringComparison.Ordinal);
            Assert.Contains(_logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("Cloudflare DNS check failed", StringComparison.Ordinal));
        }

        _cloudflare.Tokens[Token] = (["zone:read"], "active");
        await using (var services = Services())
        {
            var result = await services.GetRequiredService<CloudflareSelfCheck>().CheckHealthAsync(new HealthCheckContext(), Ct);
            Assert.Equal(HealthStatus.Degraded, result.Status);
            Assert.Contains("reading DNS records", result.Description, StringComparison.Ordinal);
        }

        _cloudflare.Tokens[Token] = (["zone:read", "dns:edit"], "disabled");
        await using (var services = Services())
        {
            var result = await services.GetRequiredService<CloudflareSelfCheck>().CheckHealthAsync(new HealthCheckContext(), Ct);
            Assert.Contains("'disabled', not active", result.Description, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_token_never_appears_in_logs()
    {
        await using var services = Services();
        var dns = Provider(services);
        _cloudflare.Next429 = 1;
        var record = await dns.CreateTxtRecordAsync(Name, "v", Ct);
        await dns.DeleteTxtRecordAsync(record, Ct);
        await services.GetRequiredService<CloudflareSelfCheck>().StartAsync(Ct);

        Assert.NotEmpty(_logs.Lines);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(Token, StringComparison.Ordinal));
    }

    [Fact]
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental; it is how an embedder replaces the handler.
    public async Task An_embedder_who_replaces_the_resilience_handler_gets_its_retries_only_never_retries_on_retries()
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(_logs.Provider()));
        SeamPlaceholders.Add(services);
        services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com").UseCloudflareDns(
            o => (o.ApiToken, o.BaseUrl, o.ZoneId) = (Token, _cloudflare.BaseUrl, _zone),
            http => http.RemoveAllResilienceHandlers().AddResilienceHandler("mine", pipeline => pipeline.AddRetry(new Microsoft.Extensions.Http.Resilience.HttpRetryStrategyOptions
            {
                MaxRetryAttempts = 1,
                Delay = TimeSpan.Zero,
            })));
        await using var provider = services.BuildServiceProvider();
        _cloudflare.Next500 = 5;
        var before = _cloudflare.Requests.Count;

        await Assert.ThrowsAsync<CloudflareApiException>(() => Provider(provider).CreateTxtRecordAsync(Name, "v", Ct));

        Assert.Equal(2, _cloudflare.Requests.Count - before); // one attempt and the embedder's one retry: nothing of ours retried too
    }
#pragma warning restore EXTEXP0001

    [Theory]
    [InlineData(null, "ApiToken is empty")]
    [InlineData("0123456789abcdef0123456789abcdef01234", "looks like the global API key")]
    public void Options_refuse_a_missing_token_or_the_global_key(string? token, string expected)
    {
        var result = new CloudflareDnsOptionsValidator().Validate(null, new CloudflareDnsOptions { ApiToken = token });
        Assert.Contains(result.Failures!, f => f.Contains(expected, StringComparison.Ordinal));
    }

    private ServiceProvider Services(Action<CloudflareDnsOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(_logs.Provider()).SetMinimumLevel(LogLevel.Trace));
        SeamPlaceholders.Add(services); // The provider alone: the seams it does not use are never resolved.
        services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com")
            .UseCloudflareDns(o =>
            {
                o.ApiToken = Token;
                o.BaseUrl = _cloudflare.BaseUrl;
                configure?.Invoke(o);
            });
        return services.BuildServiceProvider();
    }

    private static IDnsProvider Provider(ServiceProvider services) => services.CreateScope().ServiceProvider.GetRequiredService<IDnsProvider>();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
}
