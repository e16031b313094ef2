using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Acme.Internal;

internal sealed class AcmeIssuerOptionsValidator : IValidateOptions<AcmeIssuerOptions>
{
    public ValidateOptionsResult Validate(string? name, AcmeIssuerOptions options)
    {
        var errors = new List<string>();
        if (options.DirectoryUrl is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add("AcmeIssuerOptions.DirectoryUrl must be the CA's absolute https directory URL, e.g. " + AcmeDirectories.LetsEncryptStaging + ".");
        }

        if (string.IsNullOrEmpty(options.ExternalAccountKeyId) != string.IsNullOrEmpty(options.ExternalAccountHmacKey))
        {
            errors.Add("AcmeIssuerOptions.ExternalAccountKeyId and ExternalAccountHmacKey go together: set both or neither.");
        }
        else if (!string.IsNullOrEmpty(options.ExternalAccountHmacKey))
        {
            try
            {
                _ = AcmeExternalAccountBinding.FromBase64Url(options.ExternalAccountKeyId!, options.ExternalAccountHmacKey);
            }
            catch (FormatException)
            {
                errors.Add("AcmeIssuerOptions.ExternalAccountHmacKey is not base64url text as the CA gives it.");
            }
        }

        if (options.Email is { Length: > 0 } email && (!email.Contains('@', StringComparison.Ordinal) || email.Any(char.IsWhiteSpace)))
        {
            errors.Add($"AcmeIssuerOptions.Email '{email}' is not an e-mail address.");
        }

        if (options.TrustedRootFile is { Length: > 0 } root && !File.Exists(root))
        {
            errors.Add($"AcmeIssuerOptions.TrustedRootFile '{root}' does not exist.");
        }

        foreach (var server in options.PropagationNameservers.Concat(options.Resolvers))
        {
            try
            {
                _ = DnsPropagation.ParseNameServer(server);
            }
            catch (Exception ex) when (ex is ArgumentException or System.Net.Sockets.SocketException)
            {
                errors.Add($"AcmeIssuerOptions.PropagationNameservers or Resolvers entry '{server}' is not a host:port that resolves.");
            }
        }

        if (options.PropagationTimeout <= TimeSpan.Zero || options.PropagationMaxInterval <= TimeSpan.Zero)
        {
            errors.Add("AcmeIssuerOptions.PropagationTimeout and PropagationMaxInterval must be positive.");
        }

        var limits = options.RateLimits;
        if (limits.CertificatesPerRegisteredDomain < 0 || limits.NewOrdersPerAccount < 0)
        {
            errors.Add("AcmeIssuerOptions.RateLimits: CertificatesPerRegisteredDomain and NewOrdersPerAccount must be 0 (no budget) or more.");
        }

        if (limits.RegisteredDomainWindow <= TimeSpan.Zero || limits.NewOrdersWindow <= TimeSpan.Zero)
        {
            errors.Add("AcmeIssuerOptions.RateLimits: RegisteredDomainWindow and NewOrdersWindow must be positive.");
        }

        if (limits.PublicSuffixListFile is { } psl && !File.Exists(psl))
        {
            errors.Add($"AcmeIssuerOptions.RateLimits.PublicSuffixListFile '{psl}' does not exist (Debian: apt-get install publicsuffix, then /usr/share/publicsuffix/public_suffix_list.dat).");
        }

        if (options.MaxConcurrentOrders < 1)
        {
            errors.Add("AcmeIssuerOptions.MaxConcurrentOrders must be at least 1.");
        }

        if (options.Client.RequestTimeout <= TimeSpan.Zero || options.Client.BadNonceRetries < 0 || options.Client.PollInitialDelay <= TimeSpan.Zero)
        {
            errors.Add("AcmeIssuerOptions.Client: RequestTimeout and PollInitialDelay must be positive and BadNonceRetries not negative.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
