using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Dns.Cloudflare.Internal;

internal sealed class CloudflareDnsOptionsValidator : IValidateOptions<CloudflareDnsOptions>
{
    public ValidateOptionsResult Validate(string? name, CloudflareDnsOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ApiToken))
        {
            errors.Add("CloudflareDnsOptions.ApiToken is empty: create an API token with Zone:Read and DNS:Edit on the zone (Provisioning:Dns:Cloudflare:ApiToken).");
        }
        else if (options.ApiToken.Length == 37 && options.ApiToken.All(char.IsAsciiHexDigitLower))
        {
            errors.Add("CloudflareDnsOptions.ApiToken looks like the global API key: use a scoped API token (Zone:Read, DNS:Edit) instead.");
        }

        if (!options.BaseUrl.IsAbsoluteUri || (options.BaseUrl.Scheme != Uri.UriSchemeHttps && !options.BaseUrl.IsLoopback))
        {
            errors.Add("CloudflareDnsOptions.BaseUrl must be an absolute https URL (http only on loopback, for tests).");
        }

        if (options.Ttl != 1 && (options.Ttl < 60 || options.Ttl > 86400))
        {
            errors.Add("CloudflareDnsOptions.Ttl must be 1 (automatic) or 60 to 86400 seconds.");
        }

        if (options.MaxRetries < 0 || options.RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add("CloudflareDnsOptions.MaxRetries must not be negative and RequestTimeout must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
