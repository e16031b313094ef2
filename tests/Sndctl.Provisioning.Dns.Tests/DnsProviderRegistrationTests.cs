using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Authoritative;

namespace Sndctl.Provisioning.Dns.Tests;

/// <summary>
/// The DNS providers' <c>Use*</c>: each may be called twice and after another, in any order; the last one is the
/// provider, and nothing of the ones before it (options validation, self-checks, hosted services, health
/// checks) remains. Built with ValidateOnBuild and ValidateScopes.
/// </summary>
public sealed class DnsProviderRegistrationTests
{
    private static readonly Dictionary<string, Action<DeviceProvisioningBuilder>> s_valid = new()
    {
        ["Cloudflare"] = b => b.UseCloudflareDns(o => o.ApiToken = "token-0123456789abcdef"),
        ["Route53"] = b => b.UseRoute53Dns(o => { o.AccessKeyId = "AKIDEXAMPLE"; o.SecretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"; o.HostedZoneId = "Z123"; }),
        ["Rfc2136"] = b => b.UseRfc2136Dns(o => { o.Server = "127.0.0.1:5353"; o.TsigKeyName = "sndctl"; o.TsigSecret = Convert.ToBase64String(new byte[32]); }),
        ["Authoritative"] = b => b.UseAuthoritativeDns(o =>
        {
            o.Endpoints.Add("127.0.0.1:5353");
            o.Nameservers.Add(new AuthoritativeNameserver { Name = "ns1.devices.example.com", Addresses = { "127.0.0.1" } });
        }),
    };

    /// <summary>Each provider with settings that fail its validation.</summary>
    private static readonly Dictionary<string, Action<DeviceProvisioningBuilder>> s_invalid = new()
    {
        ["Cloudflare"] = b => b.UseCloudflareDns(o => { }),
        ["Route53"] = b => b.UseRoute53Dns(o => o.AccessKeyId = "AKIDEXAMPLE"), // half a key: without both, the AWS credential chain is asked
        ["Rfc2136"] = b => b.UseRfc2136Dns(o => { }),
        ["Authoritative"] = b => b.UseAuthoritativeDns(o => { }),
    };

    public static TheoryData<string, string> Pairs()
    {
        var pairs = new TheoryData<string, string>();
        foreach (var first in s_valid.Keys)
        {
            foreach (var last in s_valid.Keys)
            {
                pairs.Add(first, last);
            }
        }

        return pairs;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void The_last_provider_wins_and_nothing_of_the_one_before_remains(string first, string last)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        SeamPlaceholders.Add(services);
        var builder = services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com");
        s_invalid[first](builder); // misconfigured: must not matter once replaced
        s_valid[last](builder);
        s_valid[last](builder); // twice: still one

        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        // Only the last provider's options are validated at start (an app with the first's settings empty starts).
        provider.GetRequiredService<IStartupValidator>().Validate();
        var package = "Sndctl.Provisioning.Dns." + last;
        var dns = Assert.Single(services, d => d.ServiceType == typeof(IDnsProvider));
        Assert.StartsWith(package, (dns.ImplementationType ?? dns.ImplementationFactory!.Method.ReturnType).Namespace, StringComparison.Ordinal);

        // Of the DNS packages' hosted services, the last provider's only, once each.
        var hosted = provider.GetServices<IHostedService>().Select(h => h.GetType()).Where(t => t.Namespace!.StartsWith("Sndctl.Provisioning.Dns.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(hosted);
        Assert.Equal(hosted.Distinct().Count(), hosted.Count);
        Assert.All(hosted, t => Assert.StartsWith(package, t.Namespace, StringComparison.Ordinal));

        // One dns health check: the last provider's.
        var registration = Assert.Single(provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations, r => r.Name == ProvisioningHealthChecks.Dns);
        Assert.StartsWith(package, registration.Factory(provider).GetType().Namespace, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Cloudflare")]
    [InlineData("Route53")]
    [InlineData("Authoritative")]
    [InlineData("Rfc2136")]
    public void The_last_provider_s_own_validation_still_runs(string provider)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        SeamPlaceholders.Add(services);
        var builder = services.AddDeviceProvisioning(o => o.BaseDomain = "devices.example.com");
        s_valid[provider == "Route53" ? "Cloudflare" : "Route53"](builder);
        s_invalid[provider](builder);

        using var built = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var failure = Assert.Throws<OptionsValidationException>(() => built.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(failure.Failures, f => f.Contains("Provisioning:Dns:" + provider, StringComparison.Ordinal) || f.Contains(provider, StringComparison.Ordinal));
    }
}
