using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Tests;

/// <summary>
/// Registrations for the seams a DNS provider never touches, so that AddDeviceProvisioning's
/// start-up check passes in a container that holds the provider alone. Resolving one fails loudly.
/// </summary>
internal static class SeamPlaceholders
{
    public static void Add(IServiceCollection services)
    {
        foreach (var seam in ProvisioningStores.All.Append(typeof(ICertificateIssuer)))
        {
            services.AddScoped(seam, _ => throw new InvalidOperationException($"{seam.Name} is not part of this test."));
        }
    }
}
