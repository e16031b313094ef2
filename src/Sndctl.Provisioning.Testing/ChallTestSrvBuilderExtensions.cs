using Microsoft.Extensions.DependencyInjection.Extensions;
using Sndctl.Provisioning.Testing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the pebble-challtestsrv DNS provider for local runs and tests against Pebble.</summary>
public static class ChallTestSrvBuilderExtensions
{
    /// <summary>
    /// Places DNS-01 TXT records in a local <c>pebble-challtestsrv</c> (never in production). Pair it
    /// with the ACME issuer's <c>PropagationNameservers</c> set to the
    /// challtestsrv DNS address.
    /// </summary>
    public static DeviceProvisioningBuilder UseChallTestSrvDns(this DeviceProvisioningBuilder builder, Uri managementUrl)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(managementUrl);
        return builder.UseSeam(Sndctl.Provisioning.Core.ProvisioningSeams.Dns, services =>
        {
            services.Configure<ChallTestSrvOptions>(o => o.ManagementUrl = managementUrl);
            services.AddHttpClient<ChallTestSrvDnsProvider>(ChallTestSrvDnsProvider.HttpClientName);
            services.RemoveAll<Sndctl.Provisioning.Core.IDnsProvider>();
            services.AddScoped<Sndctl.Provisioning.Core.IDnsProvider>(sp => sp.GetRequiredService<ChallTestSrvDnsProvider>());
        });
    }
}
