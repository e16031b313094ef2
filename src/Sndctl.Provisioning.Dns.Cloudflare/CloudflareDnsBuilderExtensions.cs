using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Cloudflare;
using Sndctl.Provisioning.Dns.Cloudflare.Internal;
using Sndctl.Provisioning.Dns.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Cloudflare DNS provider.</summary>
public static class CloudflareDnsBuilderExtensions
{
    /// <summary>The name of the typed <see cref="HttpClient"/> that talks to Cloudflare.</summary>
    public const string HttpClientName = "Sndctl.Provisioning.Dns.Cloudflare";

    /// <summary>
    /// Places ACME DNS-01 records through the Cloudflare API v4. Adds a start-up token check and a
    /// <c>dns</c> health check; <paramref name="configureHttpClient"/> customises the typed client
    /// (proxy, resilience handlers).
    /// </summary>
    public static DeviceProvisioningBuilder UseCloudflareDns(
        this DeviceProvisioningBuilder builder,
        Action<CloudflareDnsOptions>? configure = null,
        Action<IHttpClientBuilder>? configureHttpClient = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseSeam(ProvisioningSeams.Dns, services => Register(services, configure, configureHttpClient));
    }

    /// <summary>As <see cref="UseCloudflareDns(DeviceProvisioningBuilder, Action{CloudflareDnsOptions}?, Action{IHttpClientBuilder}?)"/>, with <see cref="CloudflareDnsOptions"/> bound from <paramref name="configuration"/> (unknown keys refused).</summary>
    public static DeviceProvisioningBuilder UseCloudflareDns(this DeviceProvisioningBuilder builder, IConfiguration configuration, Action<IHttpClientBuilder>? configureHttpClient = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseSeam(ProvisioningSeams.Dns, services =>
        {
            Register(services, configure: null, configureHttpClient);
            builder.BindOptions<CloudflareDnsOptions>(configuration);
        });
    }

    private static void Register(IServiceCollection services, Action<CloudflareDnsOptions>? configure, Action<IHttpClientBuilder>? configureHttpClient)
    {
        services.AddOptions<CloudflareDnsOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CloudflareDnsOptions>, CloudflareDnsOptionsValidator>());
        services.TryAddSingleton<CloudflareZones>();
        var http = services.AddHttpClient<CloudflareApi>(HttpClientName)
            // No HttpClientFactory request logging: at Trace it puts the request headers in the log state unredacted
            // (the message says "Authorization: *", the state carries the token), which a structured logger ships.
            // The provider logs what an operator needs itself, and never a credential.
            .RemoveAllLoggers()
            .ConfigureHttpClient((sp, client) =>
            {
                var baseUrl = sp.GetRequiredService<IOptions<CloudflareDnsOptions>>().Value.BaseUrl;
                client.BaseAddress = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
                client.Timeout = Timeout.InfiniteTimeSpan; // CloudflareDnsOptions.RequestTimeout bounds each attempt (the resilience handler).
            })
            .AddProviderResilience("Cloudflare", sp =>
            {
                var o = sp.GetRequiredService<IOptions<CloudflareDnsOptions>>().Value;
                return (o.MaxRetries, TimeSpan.FromMilliseconds(500), o.RequestTimeout);
            });
        configureHttpClient?.Invoke(http);
        DnsProviderServices.Add<CloudflareDnsProvider, CloudflareSelfCheck>(services);
    }
}
