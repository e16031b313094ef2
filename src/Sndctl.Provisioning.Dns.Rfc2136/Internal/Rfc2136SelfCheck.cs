using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Internal;

namespace Sndctl.Provisioning.Dns.Rfc2136.Internal;

/// <summary>
/// Finds the zone of <c>_acme-challenge.&lt;base domain&gt;</c> on the server (SOA) and sends a signed update that
/// changes nothing: the server checks the key (BADSIG, BADKEY, BADTIME) and its update ACL (REFUSED) before it looks at
/// the update's prerequisite.
/// </summary>
internal sealed class Rfc2136SelfCheck(
    IServiceScopeFactory scopes,
    IOptionsMonitor<Rfc2136DnsOptions> options,
    IOptionsMonitor<DeviceProvisioningOptions> provisioning,
    TimeProvider time,
    ILogger<Rfc2136SelfCheck> logger) : DnsProviderSelfCheck(scopes, time, logger)
{
    protected override string ProviderName => "RFC 2136";

    protected override bool VerifyOnStart => options.CurrentValue.VerifyOnStart;

    protected override async Task<string> CheckAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var zone = await services.GetRequiredService<Rfc2136Client>().NoOpUpdateAsync("_acme-challenge." + provisioning.CurrentValue.BaseDomain, cancellationToken).ConfigureAwait(false);
        return $"{options.CurrentValue.Server} is authoritative for {zone} and takes updates signed with key '{options.CurrentValue.TsigKeyName}'.";
    }

    protected override bool IsFinding(Exception exception) => exception is Rfc2136UpdateException;
}
