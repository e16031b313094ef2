using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Dns.Internal;
using Sndctl.Provisioning.Dns.Route53;
using Sndctl.Provisioning.Dns.Route53.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Route53 DNS provider.</summary>
public static class Route53DnsBuilderExtensions
{
    /// <summary>The name of the typed <see cref="HttpClient"/> that talks to Route53.</summary>
    public const string HttpClientName = "Sndctl.Provisioning.Dns.Route53";

    /// <summary>
    /// Places ACME DNS-01 records through the Route53 API, signed with Signature Version 4. Adds a
    /// start-up credentials check and a <c>dns</c> health check; <paramref name="configureHttpClient"/>
    /// customises the typed client (proxy, resilience handlers).
    /// </summary>
    public static DeviceProvisioningBuilder UseRoute53Dns(
        this DeviceProvisioningBuilder builder,
        Action<Route53DnsOptions>? configure = null,
        Action<IHttpClientBuilder>? configureHttpClient = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseSeam(ProvisioningSeams.Dns, services => Register(services, configure, configureHttpClient));
    }

    /// <summary>As <see cref="UseRoute53Dns(DeviceProvisioningBuilder, Action{Route53DnsOptions}?, Action{IHttpClientBuilder}?)"/>, with <see cref="Route53DnsOptions"/> bound from <paramref name="configuration"/> (unknown keys refused).</summary>
    public static DeviceProvisioningBuilder UseRoute53Dns(this DeviceProvisioningBuilder builder, IConfiguration configuration, Action<IHttpClientBuilder>? configureHttpClient = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseSeam(ProvisioningSeams.Dns, services =>
        {
            Register(services, configure: null, configureHttpClient);
            builder.BindOptions<Route53DnsOptions>(configuration);
        });
    }

    private static void Register(IServiceCollection services, Action<Route53DnsOptions>? configure, Action<IHttpClientBuilder>? configureHttpClient)
    {
        services.AddOptions<Route53DnsOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Route53DnsOptions>, Route53DnsOptionsValidator>());
        services.TryAddSingleton<Route53NameLocks>();
        services.TryAddSingleton(AwsEnvironment.Process);
        services.TryAddSingleton<AwsCredentialChain>();
        services.AddHttpClient(AwsCredentialChain.HttpClientName)
            .RemoveAllLoggers() // the requests carry web identity and authorization tokens
            .ConfigureHttpClient(client => client.Timeout = TimeSpan.FromSeconds(5));
        var http = services.AddHttpClient<Route53Api>(HttpClientName)
            // No HttpClientFactory request logging: at Trace it puts the request headers in the log state unredacted
            // (the message says "Authorization: *", the state carries the token), which a structured logger ships.
            // The provider logs what an operator needs itself, and never a credential.
            .RemoveAllLoggers()
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan) // Route53DnsOptions.RequestTimeout bounds each attempt (the resilience handler).
            .AddProviderResilience(
                "Route53",
                sp =>
                {
                    var o = sp.GetRequiredService<IOptions<Route53DnsOptions>>().Value;
                    return (o.MaxRetries, o.RetryBaseDelay, o.RequestTimeout);
                },
                Route53Api.ErrorCodeAsync,
                Route53Api.ThrottlingCodes);
        configureHttpClient?.Invoke(http);
        DnsProviderServices.Add<Route53DnsProvider, Route53SelfCheck>(services);
    }
}
