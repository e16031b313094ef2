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
    /// e.g. <c>.UsePrivateCa().UseEntityFrameworkStores&lt;TContext&gt;()</c>; start-up fails with a message
    /// naming the missing call when a required seam has no implementation.
    /// </summary>
    public static DeviceProvisioningBuilder AddDeviceProvisioning(this IServiceCollection services, Action<DeviceProvisioningOptions>? configure = null)
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
        services.AddDataProtection();
        services.AddMetrics();
        services.TryAddSingleton<ProvisioningMetrics>();
        services.TryAddSingleton<DeviceSecretHasher>();
        services.TryAddSingleton<IssuanceCoordinator>();
        services.TryAddScoped<IDeviceProvisioningService, DeviceProvisioningService>();
        services.TryAddScoped<IDeviceAdminService, DeviceAdminService>();
        services.AddHealthChecks();
        return new DeviceProvisioningBuilder(services);
    }
}
