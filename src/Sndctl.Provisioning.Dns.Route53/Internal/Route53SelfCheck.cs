using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Internal;

namespace Sndctl.Provisioning.Dns.Route53.Internal;

/// <summary>
/// Finds the hosted zone of the base domain (or reads the configured one), lists its TXT records at
/// <c>_acme-challenge.&lt;base domain&gt;</c>, and asks for a change that does not exist, which AWS
/// answers NoSuchChange when <c>route53:GetChange</c> is allowed and AccessDenied when it is not.
/// </summary>
internal sealed class Route53SelfCheck(
    IServiceScopeFactory scopes,
    IOptionsMonitor<Route53DnsOptions> options,
    IOptionsMonitor<DeviceProvisioningOptions> provisioning,
    TimeProvider time,
    ILogger<Route53SelfCheck> logger) : DnsProviderSelfCheck(scopes, time, logger)
{
    protected override string ProviderName => "Route53";

    protected override bool VerifyOnStart => options.CurrentValue.VerifyOnStart;

    protected override async Task<string> CheckAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var api = services.GetRequiredService<Route53Api>();
        var name = "_acme-challenge." + provisioning.CurrentValue.BaseDomain;
        var zoneId = await api.FindHostedZoneIdAsync(name, cancellationToken).ConfigureAwait(false);
        await api.GetTxtAsync(zoneId, name, cancellationToken).ConfigureAwait(false);
        try
        {
            await api.GetChangeStatusAsync("CSNDCTLSELFCHECK0000", cancellationToken).ConfigureAwait(false);
        }
        catch (Route53ApiException ex) when (ex.Code != "AccessDenied")
        {
            // NoSuchChange: the call was allowed.
        }

        var chain = services.GetRequiredService<AwsCredentialChain>();
        var key = (await chain.GetAsync(cancellationToken).ConfigureAwait(false)).AccessKeyId;
        return $"Route53 credentials ({key[..Math.Min(4, key.Length)]}…, from {chain.Source}) valid; hosted zone {zoneId} readable; GetChange allowed.";
    }

    protected override bool IsFinding(Exception exception) => exception is Route53ApiException;
}
