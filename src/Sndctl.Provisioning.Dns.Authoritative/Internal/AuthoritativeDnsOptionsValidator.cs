using System.Net;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>Refuses at start-up what would make the server answer wrongly or not at all, naming the key and the fix.</summary>
internal sealed class AuthoritativeDnsOptionsValidator(IOptions<DeviceProvisioningOptions> provisioning) : IValidateOptions<AuthoritativeDnsOptions>
{
    private const string Prefix = "Provisioning:Dns:Authoritative:";

    public ValidateOptionsResult Validate(string? name, AuthoritativeDnsOptions options)
    {
        var failures = new List<string>();
        var zone = provisioning.Value.BaseDomain.TrimEnd('.').ToLowerInvariant();
        foreach (var (endpoint, i) in options.Endpoints.Select((e, i) => (e, i)))
        {
            if (!IPEndPoint.TryParse(endpoint, out var parsed) || parsed.Port == 0)
            {
                failures.Add($"{Prefix}Endpoints:{i} '{endpoint}' is not ip:port with a port (e.g. 0.0.0.0:53 or [::]:53).");
            }
        }

        if (options.Nameservers.Count == 0)
        {
            failures.Add($"{Prefix}Nameservers: name at least one name server of the zone {zone} (:Nameservers:0:Name, and :Addresses:0 for a name inside the zone): the NS records the parent zone delegates to.");
        }

        foreach (var (ns, i) in options.Nameservers.Select((ns, i) => (ns, i)))
        {
            var host = ns.Name.TrimEnd('.').ToLowerInvariant();
            if (!ARSoft.Tools.Net.DomainName.TryParse(host, out _) || !host.Contains('.', StringComparison.Ordinal))
            {
                failures.Add($"{Prefix}Nameservers:{i}:Name '{ns.Name}' is not a host name.");
                continue;
            }

            var inZone = host == zone || host.EndsWith("." + zone, StringComparison.Ordinal);
            if (inZone && ns.Addresses.Count == 0)
            {
                failures.Add($"{Prefix}Nameservers:{i}:Addresses: {host} is inside the zone, so resolvers need its addresses (glue): list them.");
            }

            foreach (var (address, j) in ns.Addresses.Select((a, j) => (a, j)))
            {
                if (!IPAddress.TryParse(address, out _))
                {
                    failures.Add($"{Prefix}Nameservers:{i}:Addresses:{j} '{address}' is not an IP address.");
                }
            }
        }

        if (options.Ttl is < 1 or > 86_400)
        {
            failures.Add($"{Prefix}Ttl must be 1 to 86400 seconds.");
        }

        if (options.SoaEmail is { } email && (email.IndexOf('@', StringComparison.Ordinal) is var at && (at <= 0 || at == email.Length - 1) || email.Contains(' ', StringComparison.Ordinal)))
        {
            failures.Add($"{Prefix}SoaEmail '{email}' is not an e-mail address.");
        }

        if (options.RefreshInterval < TimeSpan.FromMilliseconds(100) || options.RefreshInterval > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{Prefix}RefreshInterval must be 100 ms to 5 minutes.");
        }

        if (options.MaxTcpConnections is < 1 or > 65_536)
        {
            failures.Add($"{Prefix}MaxTcpConnections must be 1 to 65536.");
        }

        if (options.TcpIdleTimeout < TimeSpan.FromSeconds(1) || options.TcpIdleTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{Prefix}TcpIdleTimeout must be 1 s to 10 minutes.");
        }

        if (options.MaxTcpConnectionsPerClient is < 1 or > 65_536)
        {
            failures.Add($"{Prefix}MaxTcpConnectionsPerClient must be 1 to 65536 (at most MaxTcpConnections apply).");
        }

        if (options.ResponsesPerSecond is < 0 or > 1_000_000)
        {
            failures.Add($"{Prefix}ResponsesPerSecond must be 0 (off) to 1000000.");
        }

        if (options.RateLimitSlip is < 0 or > 10)
        {
            failures.Add($"{Prefix}RateLimitSlip must be 0 (drop every limited answer) to 10.");
        }

        if (options.RateLimitTableSize is < 1_000 or > 10_000_000)
        {
            failures.Add($"{Prefix}RateLimitTableSize must be 1000 to 10000000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
