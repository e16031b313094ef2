using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Core.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the provisioning core.</summary>
public static class DeviceProvisioningServiceCollectionExtensions
{
    /// <summary>
    /// Adds the provisioning and admin services. Pick an issuer and stores on the returned builder,
    /// e.g. <c>.UsePrivateCaIssuer().UseEntityFrameworkStores&lt;TContext&gt;()</c>; start-up fails with a message
    /// naming the missing call when a required seam has no implementation.
    /// </summary>
    public static DeviceProvisioningBuilder AddDeviceProvisioning(this IServiceCollection services, Action<DeviceProvisioningOptions>? configure = null)
        => AddCore(services, configure);

    /// <summary>
    /// Adds the provisioning and admin services with <see cref="DeviceProvisioningOptions"/> bound from
    /// <paramref name="configuration"/> (for example the <c>Provisioning</c> section); a key the options do
    /// not have stops start-up with a message naming it.
    /// </summary>
    public static DeviceProvisioningBuilder AddDeviceProvisioning(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return AddCore(services, null).BindOptions<DeviceProvisioningOptions>(configuration);
    }

    private static DeviceProvisioningBuilder AddCore(IServiceCollection services, Action<DeviceProvisioningOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<DeviceProvisioningOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeviceProvisioningOptions>, DeviceProvisioningOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeviceProvisioningOptions>, RequiredSeamsValidator>());
        services.TryAddSingleton(TimeProvider.System);
#pragma warning disable RS0030 // The one place randomness enters; everything else takes this Random from DI (tests register a seeded one).
        services.TryAddSingleton(Random.Shared);
#pragma warning restore RS0030
        services.TryAddKeyedSingleton(RemoteTime.ServiceKey, TimeProvider.System);
        services.AddDataProtection();
        services.AddMetrics();
        services.TryAddSingleton<ProvisioningMetrics>();
        services.TryAddSingleton<DeviceSecretHasher>();
        services.TryAddSingleton<LeaseHolder>();
        services.TryAddSingleton<IssuanceCoordinator>();
        services.TryAddSingleton<OrphanedDnsRecords>();
        services.AddHostedService<IssuanceDrain>();
        services.AddHostedService<JobRunner>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, AuditRetentionJob>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, FleetStatisticsJob>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, DnsRecordJanitorJob>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, ExpiredLeasePurgeJob>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, ExpirySweepJob>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, AddressRecordSyncJob>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, QueuedIssuanceJob>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, ProactiveRenewalJob>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, RenewalInfoRefreshJob>());
        services.TryAddScoped<DeviceAddressPublisher>();
        services.TryAddScoped<DeviceSecretRotation>();
        services.TryAddScoped<IDeviceProvisioningService, DeviceProvisioningService>();
        services.TryAddScoped<IDeviceAdminService, DeviceAdminService>();
        services.TryAddSingleton<FleetStatisticsCache>();
        services.TryAddSingleton<DeviceCountCache>();
        services.TryAddScoped<IDeviceAuthenticator, DeviceAuthenticator>();
        services.AddHealthChecks();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheckPublisher, HealthMetricsPublisher>());
        return new DeviceProvisioningBuilder(services);
    }
}
