using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Internal;
using Sndctl.Provisioning.Dns.Rfc2136;
using Sndctl.Provisioning.Dns.Rfc2136.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the RFC 2136 (dynamic update) DNS provider.</summary>
public static class Rfc2136DnsBuilderExtensions
{
    /// <summary>
    /// Places ACME DNS-01 records and device address records with dynamic updates (RFC 2136) signed with TSIG on
    /// any authoritative server that takes them (BIND, Knot, PowerDNS, Windows DNS). Adds a start-up check and a
    /// <c>dns</c> health check (an SOA query and a signed update that changes nothing).
    /// </summary>
    public static DeviceProvisioningBuilder UseRfc2136Dns(this DeviceProvisioningBuilder builder, Action<Rfc2136DnsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseSeam(ProvisioningSeams.Dns, services => Register(services, configure));
    }

    /// <summary>As <see cref="UseRfc2136Dns(DeviceProvisioningBuilder, Action{Rfc2136DnsOptions}?)"/>, with <see cref="Rfc2136DnsOptions"/> bound from <paramref name="configuration"/> (unknown keys refused).</summary>
    public static DeviceProvisioningBuilder UseRfc2136Dns(this DeviceProvisioningBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseSeam(ProvisioningSeams.Dns, services =>
        {
            Register(services, configure: null);
            builder.BindOptions<Rfc2136DnsOptions>(configuration);
        });
    }

    private static void Register(IServiceCollection services, Action<Rfc2136DnsOptions>? configure)
    {
        services.AddOptions<Rfc2136DnsOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Rfc2136DnsOptions>, Rfc2136DnsOptionsValidator>());
        services.TryAddSingleton<Rfc2136Client>();
        DnsProviderServices.Add<Rfc2136DnsProvider, Rfc2136SelfCheck>(services);
    }
}
