using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Route53;
using Sndctl.Provisioning.Dns.Route53.Internal;
using Sndctl.Provisioning.Testing;

namespace Sndctl.Provisioning.Dns.Tests;

/// <summary>
/// Route53 with each source of the AWS credential chain, against stand-ins that follow AWS's contracts (STS
/// AssumeRoleWithWebIdentity, the container credentials endpoint, IMDSv2) and a Route53 stand-in that checks every
/// signature and session token: credentials kept until shortly before they expire, then fetched again; no secret in
/// any log line.
/// </summary>
public sealed class AwsCredentialChainTests : IAsyncLifetime
{
    private const string Name = "_acme-challenge.chain.devices.example.com";
    private static readonly string[] AllActions = ["route53:ListHostedZonesByName", "route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets", "route53:GetChange"];
    private readonly CapturedLogs _logs = new();
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-aws-").FullName;
    private FakeRoute53 _route53 = null!;
    private FakeAwsCredentials _aws = null!;
    private string _zone = null!;

    public async ValueTask InitializeAsync()
    {
        _route53 = await FakeRoute53.StartAsync();
        _zone = _route53.AddZone("devices.example.com");
        _aws = await FakeAwsCredentials.StartAsync(_route53, AllActions);
    }

    public async ValueTask DisposeAsync()
    {
        await _aws.DisposeAsync();
        await _route53.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task A_web_identity_is_exchanged_with_STS_once_while_its_credentials_last()
    {
        var tokenFile = Path.Combine(_work, "token");
        await File.WriteAllTextAsync(Path.Combine(_work, "token"), _aws.WebIdentityToken + "\n", Ct);
        await using var services = Services(new()
        {
            ["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile,
            ["AWS_ROLE_ARN"] = _aws.RoleArn,
            ["AWS_ENDPOINT_URL_STS"] = new Uri(_aws.BaseUrl, "sts/").AbsoluteUri,
        });

        await Provider(services).CreateTxtRecordAsync(Name, "web-identity", Ct);
        await Provider(services).CreateTxtRecordAsync(Name, "web-identity-again", Ct);
        Assert.Equal(["\"web-identity\"", "\"web-identity-again\""], _route53.TxtAt(_zone, Name).Order(StringComparer.Ordinal));
        Assert.Equal(1, _aws.Calls["sts"]);
        AssertNoSecretLogged();
    }

    [Fact]
    public async Task Credentials_near_their_expiry_are_fetched_again_before_use()
    {
        _aws.Lifetime = TimeSpan.FromMinutes(4); // inside the 5-minute refresh margin
        var tokenFile = Path.Combine(_work, "token");
        await File.WriteAllTextAsync(tokenFile, _aws.WebIdentityToken, Ct);
        await using var services = Services(new()
        {
            ["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile,
            ["AWS_ROLE_ARN"] = _aws.RoleArn,
            ["AWS_ENDPOINT_URL_STS"] = new Uri(_aws.BaseUrl, "sts/").AbsoluteUri,
        });

        await Provider(services).CreateTxtRecordAsync(Name, "first", Ct);
        await Provider(services).CreateTxtRecordAsync(Name, "second", Ct);
        // Every signed Route53 request found its credentials too close to their end and got new ones first.
        Assert.Equal(_route53.Requests.Count, _aws.Calls["sts"]);
        Assert.True(_aws.Calls["sts"] >= 2);
    }

    [Fact]
    public async Task STS_refusing_the_token_is_a_clear_error_naming_the_source()
    {
        var tokenFile = Path.Combine(_work, "token");
        await File.WriteAllTextAsync(tokenFile, "a-token-sts-does-not-accept", Ct);
        await using var services = Services(new()
        {
            ["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile,
            ["AWS_ROLE_ARN"] = _aws.RoleArn,
            ["AWS_ENDPOINT_URL_STS"] = new Uri(_aws.BaseUrl, "sts/").AbsoluteUri,
        });

        var refused = await Assert.ThrowsAsync<Route53ApiException>(() => Provider(services).CreateTxtRecordAsync(Name, "never", Ct));
        Assert.Equal("InvalidIdentityToken", refused.Code);
        Assert.Contains("AssumeRoleWithWebIdentity", refused.Message, StringComparison.Ordinal);
        Assert.Empty(_route53.TxtAt(_zone, Name));
    }

    [Fact]
    public async Task The_container_endpoint_answers_with_its_authorization_token_from_a_file()
    {
        var tokenFile = Path.Combine(_work, "eks-pod-identity-token");
        await File.WriteAllTextAsync(tokenFile, _aws.ContainerAuthorization, Ct);
        await using var services = Services(new()
        {
            ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = new Uri(_aws.BaseUrl, "container/credentials").AbsoluteUri,
            ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = tokenFile,
        });

        await Provider(services).CreateTxtRecordAsync(Name, "container", Ct);
        Assert.Equal(["\"container\""], _route53.TxtAt(_zone, Name));
        Assert.Equal(1, _aws.Calls["container"]);
        AssertNoSecretLogged();

        await using var wrong = Services(new()
        {
            ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = new Uri(_aws.BaseUrl, "container/credentials").AbsoluteUri,
            ["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "not-the-token",
        });
        var refused = await Assert.ThrowsAsync<Route53ApiException>(() => Provider(wrong).CreateTxtRecordAsync(Name, "never", Ct));
        Assert.Contains("401", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_container_endpoint_elsewhere_than_loopback_or_the_link_local_addresses_is_refused_over_http()
    {
        await using var services = Services(new() { ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://198.51.100.7/credentials" });
        var refused = await Assert.ThrowsAsync<Route53ApiException>(() => Provider(services).CreateTxtRecordAsync(Name, "never", Ct));
        Assert.Contains("not https, loopback", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_instance_role_comes_from_IMDSv2_with_a_session_token()
    {
        await using var services = Services(new() { ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = _aws.BaseUrl.AbsoluteUri });

        await Provider(services).CreateTxtRecordAsync(Name, "instance-role", Ct);
        Assert.Equal(["\"instance-role\""], _route53.TxtAt(_zone, Name));
        Assert.Equal(1, _aws.Calls["imds-token"]);
        Assert.Equal(1, _aws.Calls["imds-credentials"]);
        Assert.False(_aws.Calls.ContainsKey("imds-refused")); // never an IMDSv1 request
        AssertNoSecretLogged();
    }

    [Fact]
    public async Task Static_keys_and_environment_keys_come_before_the_chain()
    {
        _route53.Keys["AKIAENVIRONMENT00001"] = ("environment/Secret/0123456789", AllActions, null);
        await using var services = Services(new()
        {
            ["AWS_ACCESS_KEY_ID"] = "AKIAENVIRONMENT00001",
            ["AWS_SECRET_ACCESS_KEY"] = "environment/Secret/0123456789",
            ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = _aws.BaseUrl.AbsoluteUri,
        });

        await Provider(services).CreateTxtRecordAsync(Name, "environment", Ct);
        Assert.Empty(_aws.Calls);
    }

    [Fact]
    public async Task Without_any_source_the_error_lists_the_ways_to_give_credentials()
    {
        await using var services = Services(new() { ["AWS_EC2_METADATA_DISABLED"] = "true" });
        var refused = await Assert.ThrowsAsync<Route53ApiException>(() => Provider(services).CreateTxtRecordAsync(Name, "never", Ct));
        Assert.Contains("AWS_WEB_IDENTITY_TOKEN_FILE", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Provisioning:Dns:Route53:AccessKeyId", refused.Message, StringComparison.Ordinal);
    }

    private void AssertNoSecretLogged()
    {
        var text = string.Join('\n', _logs.Lines);
        Assert.Contains("AWS credentials for Route53 from", text, StringComparison.Ordinal);
        Assert.All(_aws.Secrets.Append(_aws.WebIdentityToken).Append(_aws.ContainerAuthorization), secret => Assert.DoesNotContain(secret, text, StringComparison.Ordinal));
    }

    private ServiceProvider Services(Dictionary<string, string> environment)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(_logs.Provider()).SetMinimumLevel(LogLevel.Trace));
        SeamPlaceholders.Add(services);
        services.AddSingleton(new AwsEnvironment(name => environment.GetValueOrDefault(name)));
        services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com").UseRoute53Dns(o =>
        {
            o.ServiceUrl = _route53.ServiceUrl;
            o.SyncPollInterval = TimeSpan.FromMilliseconds(20);
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            o.MaxRetries = 1;
        });
        return services.BuildServiceProvider();
    }

    private static IDnsProvider Provider(ServiceProvider services) => services.CreateScope().ServiceProvider.GetRequiredService<IDnsProvider>();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
}
