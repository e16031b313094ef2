using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Dns.Route53.Internal;

internal sealed class Route53DnsOptionsValidator : IValidateOptions<Route53DnsOptions>
{
    public ValidateOptionsResult Validate(string? name, Route53DnsOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrEmpty(options.AccessKeyId) != string.IsNullOrEmpty(options.SecretAccessKey))
        {
            errors.Add("Route53DnsOptions: set both AccessKeyId and SecretAccessKey (Provisioning:Dns:Route53:*), or neither to use the AWS credential chain (environment, web identity, container endpoint, instance role).");
        }

        if (!string.IsNullOrEmpty(options.SessionToken) && string.IsNullOrEmpty(options.AccessKeyId))
        {
            errors.Add("Route53DnsOptions.SessionToken is set without AccessKeyId and SecretAccessKey: temporary credentials need all three.");
        }

        if (!options.ServiceUrl.IsAbsoluteUri || (options.ServiceUrl.Scheme != Uri.UriSchemeHttps && !options.ServiceUrl.IsLoopback))
        {
            errors.Add("Route53DnsOptions.ServiceUrl must be an absolute https URL (http only on loopback, for tests).");
        }

        if (string.IsNullOrWhiteSpace(options.SigningRegion))
        {
            errors.Add("Route53DnsOptions.SigningRegion is empty: use us-east-1 for the global endpoint.");
        }

        if (options.Ttl is < 0 or > 604800)
        {
            errors.Add("Route53DnsOptions.Ttl must be 0 to 604800 seconds.");
        }

        if (options.MaxRetries < 0 || options.RequestTimeout <= TimeSpan.Zero || options.SyncTimeout <= TimeSpan.Zero || options.SyncPollInterval <= TimeSpan.Zero || options.RetryBaseDelay < TimeSpan.Zero)
        {
            errors.Add("Route53DnsOptions: MaxRetries must not be negative; RequestTimeout, SyncTimeout and SyncPollInterval must be positive, RetryBaseDelay not negative.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
