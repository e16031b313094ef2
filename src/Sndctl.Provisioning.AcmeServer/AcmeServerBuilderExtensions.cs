using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.AcmeServer;
using Sndctl.Provisioning.AcmeServer.Internal;
using Sndctl.Provisioning.Core;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the ACME front door.</summary>
public static class AcmeServerBuilderExtensions
{
    /// <summary>
    /// Adds the ACME front door (<see cref="IAcmeServer"/>): an RFC 8555 CA for the fleet's own ACME clients, in front
    /// of the configured issuer, with External Account Binding by device ID and secret. Needs the front door's stores
    /// (<c>UseEntityFrameworkStores&lt;TContext&gt;()</c> has them); <c>app.MapAcmeServer()</c> serves it over HTTPS.
    /// </summary>
    public static DeviceProvisioningBuilder AddAcmeServer(this DeviceProvisioningBuilder builder, Action<AcmeServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<AcmeServerOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AcmeServerOptions>, AcmeServerOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton<AcmeServerMetrics>();
        services.TryAddSingleton<AcmeNonces>();
        services.TryAddScoped<IAcmeServer, AcmeFrontDoor>();
        services.TryAddScoped<AcmeAccountResources>();
        services.TryAddScoped<AcmeOrderResources>();
        services.TryAddScoped<AcmeRevocation>();
        services.TryAddScoped<AcmeRenewalInfo>();
        builder.AddJob<AcmeServerRetentionJob>();
        return builder;
    }

    /// <summary>As <see cref="AddAcmeServer(DeviceProvisioningBuilder, Action{AcmeServerOptions}?)"/>, with <see cref="AcmeServerOptions"/> bound from <paramref name="configuration"/> (unknown keys refused).</summary>
    public static DeviceProvisioningBuilder AddAcmeServer(this DeviceProvisioningBuilder builder, IConfiguration configuration)
        => AddAcmeServer(builder).BindOptions<AcmeServerOptions>(configuration);
}
