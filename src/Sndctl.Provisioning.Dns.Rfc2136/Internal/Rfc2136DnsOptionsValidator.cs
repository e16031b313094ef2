using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Dns.Rfc2136.Internal;

internal sealed class Rfc2136DnsOptionsValidator : IValidateOptions<Rfc2136DnsOptions>
{
    public ValidateOptionsResult Validate(string? name, Rfc2136DnsOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Server))
        {
            errors.Add("Provisioning:Dns:Rfc2136:Server is empty: set the primary server that takes updates, e.g. 'ns1.example.com:53' or '192.0.2.53'.");
        }
        else if (Rfc2136Client.ParseServer(options.Server).Port is < 1 or > 65535)
        {
            errors.Add($"Provisioning:Dns:Rfc2136:Server '{options.Server}' has no valid port (1-65535).");
        }

        if (string.IsNullOrWhiteSpace(options.TsigKeyName))
        {
            errors.Add("Provisioning:Dns:Rfc2136:TsigKeyName is empty: set the name of the TSIG key the server knows (updates are always signed).");
        }

        if (options.TsigAlgorithm.ToLowerInvariant() is not ("hmac-sha256" or "hmac-sha512"))
        {
            errors.Add($"Provisioning:Dns:Rfc2136:TsigAlgorithm '{options.TsigAlgorithm}' is not supported: use hmac-sha256 or hmac-sha512.");
        }

        var secret = new byte[512];
        if (string.IsNullOrWhiteSpace(options.TsigSecret) || !Convert.TryFromBase64String(options.TsigSecret, secret, out var length) || length < 16)
        {
            errors.Add("Provisioning:Dns:Rfc2136:TsigSecret must be the key's secret in base64, at least 16 bytes (tsig-keygen -a hmac-sha256 NAME prints one).");
        }

        if (options.Ttl is < 0 or > 604800)
        {
            errors.Add("Provisioning:Dns:Rfc2136:Ttl must be 0 to 604800 seconds.");
        }

        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromMinutes(2))
        {
            errors.Add("Provisioning:Dns:Rfc2136:Timeout must be more than 0 and at most 2 minutes.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
