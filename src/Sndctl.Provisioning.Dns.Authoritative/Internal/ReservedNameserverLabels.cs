using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// Adds the labels of the zone's in-zone name servers (<c>ns1</c> of <c>ns1.devices.example.com</c>) to the
/// reserved device IDs: a device by that name would publish its addresses beside the name server's glue.
/// </summary>
/// <remarks>
/// The DNS options are assembled from their configure steps, not resolved through <see cref="IOptions{TOptions}"/>:
/// their validator reads the provisioning options, which would then be built while they are being built.
/// </remarks>
internal sealed class ReservedNameserverLabels(IEnumerable<IConfigureOptions<AuthoritativeDnsOptions>> configureSteps) : IPostConfigureOptions<DeviceProvisioningOptions>
{
    public void PostConfigure(string? name, DeviceProvisioningOptions options)
    {
        var dns = new AuthoritativeDnsOptions();
        foreach (var step in configureSteps)
        {
            if (step is IConfigureNamedOptions<AuthoritativeDnsOptions> named)
            {
                named.Configure(Options.DefaultName, dns);
            }
            else
            {
                step.Configure(dns);
            }
        }

        var zone = options.BaseDomain.TrimEnd('.').ToLowerInvariant();
        var labels = dns.Nameservers
            .Select(ns => ns.Name.TrimEnd('.').ToLowerInvariant())
            .Where(host => zone.Length > 0 && host.EndsWith("." + zone, StringComparison.Ordinal))
            .Select(host => host[..^(zone.Length + 1)].Split('.')[^1])
            .ToList();
        if (labels.Count > 0)
        {
            IEnumerable<string> reserved = options.ReservedDeviceIds ?? [.. DeviceProvisioningOptions.DefaultReservedDeviceIds];
            options.ReservedDeviceIds = [.. reserved.Union(labels, StringComparer.Ordinal)];
        }
    }
}
