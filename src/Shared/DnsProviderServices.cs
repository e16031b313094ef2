using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Internal;

/// <summary>The registrations every DNS provider package makes. Shared source.</summary>
internal static class DnsProviderServices
{
    /// <summary>
    /// Makes <typeparamref name="TProvider"/> the <see cref="IDnsProvider"/> (replacing any other), and
    /// <typeparamref name="TSelfCheck"/> the start-up check and the <c>dns</c> health check.
    /// </summary>
    public static void Add<TProvider, TSelfCheck>(IServiceCollection services)
        where TProvider : class, IDnsProvider
        where TSelfCheck : DnsProviderSelfCheck
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DnsZoneCache>();
        services.TryAddSingleton<TSelfCheck>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TSelfCheck>(sp => sp.GetRequiredService<TSelfCheck>()));
        services.RemoveAll<IDnsProvider>();
        services.AddScoped<IDnsProvider, TProvider>();
        services.Configure<HealthCheckServiceOptions>(o =>
        {
            if (o.Registrations.FirstOrDefault(r => r.Name == "dns") is { } previous)
            {
                o.Registrations.Remove(previous);
            }

            o.Registrations.Add(new HealthCheckRegistration(ProvisioningHealthChecks.Dns, sp => sp.GetRequiredService<TSelfCheck>(), null, [ProvisioningHealthChecks.ReadyTag]));
        });
    }
}
