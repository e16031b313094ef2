using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.PrivateCa;
using Sndctl.Provisioning.PrivateCa.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The private CA, in its two roles: the issuer of device certificates (<see cref="UsePrivateCaIssuer(DeviceProvisioningBuilder, Action{PrivateCaOptions}?)"/>)
/// and the private-IP CSR service (<see cref="AddPrivateCsrService(DeviceProvisioningBuilder, Action{PrivateCaOptions}?)"/>).
/// Either, both, in any order: they share one CA (root made at first start, keys encrypted in the
/// issuer-state store, or loaded from the PEM files named in <see cref="PrivateCaOptions"/>).
/// </summary>
public static class PrivateCaBuilderExtensions
{
    /// <summary>
    /// Issues device certificates from the private CA, offline, and adds an <c>issuer</c> health check.
    /// <c>app.MapPrivateCa()</c> serves its root and CRLs.
    /// </summary>
    public static DeviceProvisioningBuilder UsePrivateCaIssuer(this DeviceProvisioningBuilder builder, Action<PrivateCaOptions>? configure = null)
    {
        // The CA itself is shared with the CSR service: registered outside the issuer seam, so replacing the
        // issuer (UseAcme) keeps it for AddPrivateCsrService.
        AddCertificateAuthority(builder, configure);
        return builder.UseSeam(ProvisioningSeams.Issuer, services =>
        {
            builder.UseIssuer<PrivateCaCertificateIssuer>();
            builder.UseIssuerHealthCheck(sp => new PrivateCaHealthCheck(sp.GetRequiredService<CertificateAuthority>()));
        });
    }

    /// <summary>As <see cref="UsePrivateCaIssuer(DeviceProvisioningBuilder, Action{PrivateCaOptions}?)"/>, with <see cref="PrivateCaOptions"/> bound from <paramref name="configuration"/> (unknown keys refused).</summary>
    public static DeviceProvisioningBuilder UsePrivateCaIssuer(this DeviceProvisioningBuilder builder, IConfiguration configuration)
        => UsePrivateCaIssuer(builder).BindOptions<PrivateCaOptions>(configuration);

    /// <summary>
    /// Adds the private-IP CSR service (<see cref="ICsrService"/>: submit, status, approve, deny, revoke,
    /// with the policy, the per-address submission rate and the retention of denied requests), signing
    /// with the private CA's two CSR intermediates. Needs a CSR request store and a rate-limit store
    /// (<c>UseEntityFrameworkStores&lt;TContext&gt;()</c>). <c>app.MapPrivateCa()</c> serves it over HTTP.
    /// </summary>
    public static DeviceProvisioningBuilder AddPrivateCsrService(this DeviceProvisioningBuilder builder, Action<PrivateCaOptions>? configure = null)
    {
        AddCertificateAuthority(builder, configure);
        var services = builder.Services;
        services.TryAddScoped<ICsrService, PrivateCsrService>();
        services.AddMetrics();
        services.TryAddSingleton<CsrMetrics>();
        builder.AddJob<CsrRetentionJob>();
        builder.AddJob<CsrBacklogJob>();
        return builder;
    }

    /// <summary>As <see cref="AddPrivateCsrService(DeviceProvisioningBuilder, Action{PrivateCaOptions}?)"/>, with <see cref="PrivateCaOptions"/> bound from <paramref name="configuration"/> (unknown keys refused).</summary>
    public static DeviceProvisioningBuilder AddPrivateCsrService(this DeviceProvisioningBuilder builder, IConfiguration configuration)
        => AddPrivateCsrService(builder).BindOptions<PrivateCaOptions>(configuration);

    private static void AddCertificateAuthority(DeviceProvisioningBuilder builder, Action<PrivateCaOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<PrivateCaOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PrivateCaOptions>, PrivateCaOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CertificateAuthority>();
        services.TryAddSingleton<CsrRevocationLists>();
        services.TryAddSingleton<IPrivateCaFiles, PrivateCaFiles>();
        services.TryAddSingleton(sp => new PrivateCaRootKey(sp.GetRequiredService<CertificateAuthority>()));
        services.TryAddSingleton(sp => new PrivateCaArchive(sp.GetRequiredService<CertificateAuthority>()));
        builder.AddJob<CaExpiryJob>();
    }
}
