using Sndctl.Provisioning.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
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

        var http = services.AddHttpClient(AcmeAccountManager.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => AcmeHttpHandler.Create(sp.GetRequiredService<IOptions<AcmeIssuerOptions>>().Value))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan); // AcmeClientOptions.RequestTimeout bounds each exchange.

        // The one resilience handler: retries of the reads that may be repeated as they are (the directory, a new
        // nonce) when the CA fails or cannot be reached. A signed POST is never resent by it: its nonce is spent,
        // and the client's badNonce resend (RFC 8555 §6.5) is protocol logic, not a transport retry.
        http.AddResilienceHandler(ResilienceHandlerName, pipeline => pipeline.AddRetry(new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = 2,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            ShouldRetryAfterHeader = true,
            ShouldHandle = args => ValueTask.FromResult(
                args.Context.GetRequestMessage()?.Method is { } method && (method == HttpMethod.Get || method == HttpMethod.Head)
                && HttpClientResiliencePredicates.IsTransient(args.Outcome)),
        }));
        return http;
    }

    /// <summary>The name of the ACME client's resilience handler (replace it with <c>RemoveAllResilienceHandlers()</c>, then your own).</summary>
    public const string ResilienceHandlerName = "sndctl-acme";
}
