using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Authoritative;
using Sndctl.Provisioning.Dns.Authoritative.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the embedded authoritative DNS server as the DNS provider.</summary>
public static class AuthoritativeDnsBuilderExtensions
{
    /// <summary>
    /// Answers the zone <see cref="DeviceProvisioningOptions.BaseDomain"/> with an authoritative DNS server hosted
    /// in the app (UDP and TCP on <see cref="AuthoritativeDnsOptions.Endpoints"/>), from records kept in the
    /// provisioning database through <see cref="IZoneRecordStore"/> (the Entity Framework stores provide it):
    /// devices' A/AAAA records and ACME DNS-01 TXT records. Adds the <c>dns</c> health check.
    /// </summary>
    public static DeviceProvisioningBuilder UseAuthoritativeDns(this DeviceProvisioningBuilder builder, Action<AuthoritativeDnsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseSeam(ProvisioningSeams.Dns, services => Register(services, configure));
    }

    /// <summary>As <see cref="UseAuthoritativeDns(DeviceProvisioningBuilder, Action{AuthoritativeDnsOptions}?)"/>, with <see cref="AuthoritativeDnsOptions"/> bound from <paramref name="configuration"/> (unknown keys refused).</summary>
    public static DeviceProvisioningBuilder UseAuthoritativeDns(this DeviceProvisioningBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseSeam(ProvisioningSeams.Dns, services =>
        {
            Register(services, configure: null);
            builder.BindOptions<AuthoritativeDnsOptions>(configuration);
        });
    }

    private static void Register(IServiceCollection services, Action<AuthoritativeDnsOptions>? configure)
    {
        services.AddOptions<AuthoritativeDnsOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuthoritativeDnsOptions>, AuthoritativeDnsOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<DeviceProvisioningOptions>, ReservedNameserverLabels>());
        services.TryAddSingleton<DnsServerMetrics>();
        services.TryAddSingleton<ZoneCache>();
        services.TryAddSingleton<AuthoritativeDnsServer>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ZoneCache>(sp => sp.GetRequiredService<ZoneCache>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AuthoritativeDnsServer>(sp => sp.GetRequiredService<AuthoritativeDnsServer>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, ZoneChangeRetentionJob>());
        services.RemoveAll<IDnsProvider>();
        services.AddScoped<IDnsProvider, AuthoritativeDnsProvider>();
        services.Configure<HealthCheckServiceOptions>(o =>
        {
            if (o.Registrations.FirstOrDefault(r => r.Name == ProvisioningHealthChecks.Dns) is { } previous)
            {
                o.Registrations.Remove(previous);
            }

            o.Registrations.Add(new HealthCheckRegistration(ProvisioningHealthChecks.Dns, sp => sp.GetRequiredService<AuthoritativeDnsServer>(), null, [ProvisioningHealthChecks.ReadyTag]));
        });
    }
}
