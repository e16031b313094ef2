using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Internal;

namespace Sndctl.Provisioning.Dns.Cloudflare.Internal;

/// <summary>
/// <c>/user/tokens/verify</c>, then a read of the zone (configured, or the one holding the base
/// domain) and of its DNS records.
/// </summary>
internal sealed class CloudflareSelfCheck(
    IServiceScopeFactory scopes,
    IOptionsMonitor<CloudflareDnsOptions> options,
    IOptionsMonitor<DeviceProvisioningOptions> provisioning,
    TimeProvider time,
    ILogger<CloudflareSelfCheck> logger) : DnsProviderSelfCheck(scopes, time, logger)
{
    protected override string ProviderName => "Cloudflare";

    protected override bool VerifyOnStart => options.CurrentValue.VerifyOnStart;

    protected override async Task<string> CheckAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var api = services.GetRequiredService<CloudflareApi>();
        var name = "_acme-challenge." + provisioning.CurrentValue.BaseDomain;
        await api.VerifyTokenAsync(cancellationToken).ConfigureAwait(false);
        var zoneId = await api.FindZoneIdAsync(name, cancellationToken).ConfigureAwait(false);
        var zoneName = await api.GetZoneNameAsync(zoneId, cancellationToken).ConfigureAwait(false);
        await foreach (var _ in api.PagesAsync($"zones/{Uri.EscapeDataString(zoneId)}/dns_records?type=TXT&name={Uri.EscapeDataString(name)}", "reading DNS records (needs DNS:Read or DNS:Edit)", cancellationToken).ConfigureAwait(false))
        {
            break;
        }

        return $"Cloudflare token active; zone {zoneName} ({zoneId}) readable.";
    }

    protected override bool IsFinding(Exception exception) => exception is CloudflareApiException;
}
