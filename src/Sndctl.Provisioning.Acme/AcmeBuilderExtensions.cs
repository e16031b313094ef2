using Sndctl.Provisioning.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Acme;
using Sndctl.Provisioning.Acme.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Picks ACME (Let's Encrypt or any RFC 8555 CA) as the certificate issuer.</summary>
public static class AcmeBuilderExtensions
{
    /// <summary>
    /// Issues publicly trusted device certificates over ACME with DNS-01. Needs a DNS provider
    /// (<c>UseCloudflareDns</c>, <c>UseRoute53Dns</c> or <c>UseDnsProvider&lt;T&gt;()</c>). Adds an
    /// <c>issuer</c> health check and the named <see cref="HttpClient"/> <c>Sndctl.Provisioning.Acme</c>
    /// (returned builder: add handlers, logging or resilience to it).
    /// </summary>
    public static IHttpClientBuilder UseAcmeIssuer(this DeviceProvisioningBuilder builder, Action<AcmeIssuerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IHttpClientBuilder? http = null;
        builder.UseSeam(ProvisioningSeams.Issuer, services => http = Register(builder, configure));
        return http!;
    }

    /// <summary>As <see cref="UseAcmeIssuer(DeviceProvisioningBuilder, Action{AcmeIssuerOptions}?)"/>, with <see cref="AcmeIssuerOptions"/> bound from <paramref name="configuration"/> (unknown keys refused).</summary>
    public static IHttpClientBuilder UseAcmeIssuer(this DeviceProvisioningBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IHttpClientBuilder? http = null;
        builder.UseSeam(ProvisioningSeams.Issuer, services =>
        {
            http = Register(builder, configure: null);
            builder.BindOptions<AcmeIssuerOptions>(configuration);
        });
        return http!;
    }

    /// <summary>As <see cref="UseAcme(DeviceProvisioningBuilder, Action{AcmeIssuerOptions}?)"/>, with <see cref="AcmeIssuerOptions"/> bound from <paramref name="configuration"/> (unknown keys refused).</summary>
    public static DeviceProvisioningBuilder UseAcme(this DeviceProvisioningBuilder builder, IConfiguration configuration)
    {
        UseAcmeIssuer(builder, configuration);
        return builder;
    }

    /// <summary>Same as <see cref="UseAcmeIssuer(DeviceProvisioningBuilder, Action{AcmeIssuerOptions}?)"/>, returning the provisioning builder to go on with <c>Use*</c> calls.</summary>
    public static DeviceProvisioningBuilder UseAcme(this DeviceProvisioningBuilder builder, Action<AcmeIssuerOptions>? configure = null)
    {
        UseAcmeIssuer(builder, configure);
        return builder;
    }

    private static IHttpClientBuilder Register(DeviceProvisioningBuilder builder, Action<AcmeIssuerOptions>? configure)
    {
        var services = builder.Services;
        services.AddOptions<AcmeIssuerOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AcmeIssuerOptions>, AcmeIssuerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddKeyedSingleton(RemoteTime.ServiceKey, TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<AcmeMetrics>();
        services.TryAddSingleton<AcmeAccountManager>();
        services.TryAddSingleton<DnsPropagation>();
        services.TryAddSingleton<AcmeBudget>();
        services.RemoveAll<ICertificateAuthorityBudget>();
        services.AddSingleton<ICertificateAuthorityBudget, AcmeBudgetReport>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProvisioningJob, AcmeBudgetStatisticsJob>());
        builder.UseIssuer<AcmeCertificateIssuer>();
        services.TryAddSingleton<AcmeHealthCheck>();
        builder.UseIssuerHealthCheck(sp => sp.GetRequiredService<AcmeHealthCheck>());

        return services.AddHttpClient(AcmeAccountManager.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => AcmeHttpHandler.Create(sp.GetRequiredService<IOptions<AcmeIssuerOptions>>().Value))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan); // AcmeClientOptions.RequestTimeout bounds each exchange.
    }
}
