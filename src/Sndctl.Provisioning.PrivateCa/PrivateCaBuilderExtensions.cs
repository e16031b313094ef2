using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.PrivateCa;
using Sndctl.Provisioning.PrivateCa.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Picks the private CA as the certificate issuer.</summary>
public static class PrivateCaBuilderExtensions
{
    /// <summary>
    /// Issues device certificates from a private CA: made at first start and kept (keys encrypted)
    /// in the issuer-state store, or loaded from the PEM files named in <see cref="PrivateCaOptions"/>.
    /// Adds an <c>issuer</c> health check. Map <c>app.MapPrivateCa()</c> to serve the root, the private-IP
    /// CSR service and its CRLs (with <c>app.UseRateLimiter()</c> for its per-address limit).
    /// </summary>
    public static DeviceProvisioningBuilder UsePrivateCa(this DeviceProvisioningBuilder builder, Action<PrivateCaOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<PrivateCaOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PrivateCaOptions>, PrivateCaOptionsValidator>());
        services.TryAddSingleton<CertificateAuthority>();
        services.TryAddSingleton<CsrRevocationLists>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, CsrRetentionService>());
        services.TryAddSingleton(sp => new PrivateCaRootKey(sp.GetRequiredService<CertificateAuthority>()));
        services.TryAddSingleton(TimeProvider.System);
        // By factory: the CSR request store is needed only where MapPrivateCa() serves the CSR API (it checks).
        services.TryAddScoped(sp => ActivatorUtilities.CreateInstance<PrivateCsrService>(sp));
        services.TryAddScoped<ICsrRequestAdmin>(sp => sp.GetRequiredService<PrivateCsrService>());
        services.AddRateLimiter(o => o.AddPolicy<string, CsrRateLimitPolicy>(CsrRateLimitPolicy.Name));
        builder.UseIssuer<PrivateCaCertificateIssuer>();
        builder.UseIssuerHealthCheck(sp => new PrivateCaHealthCheck(sp.GetRequiredService<CertificateAuthority>()));
        return builder;
    }
}
