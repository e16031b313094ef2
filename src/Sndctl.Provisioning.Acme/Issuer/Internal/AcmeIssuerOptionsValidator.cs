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
        else if (url.AbsoluteUri.Length > 512)
        {
            errors.Add("AcmeIssuerOptions.DirectoryUrl is longer than 512 characters.");
        }

        ValidateAccount("AcmeIssuerOptions.", options.ExternalAccountKeyId, options.ExternalAccountHmacKey, options.Email, errors);
        ValidateFallbacks(options, errors);

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

    /// <summary>An account's External Account Binding (both or neither, base64url) and contact address; <paramref name="prefix"/> names where they are set.</summary>
    private static void ValidateAccount(string prefix, string? keyId, string? hmacKey, string? email, List<string> errors)
    {
        if (string.IsNullOrEmpty(keyId) != string.IsNullOrEmpty(hmacKey))
        {
            errors.Add($"{prefix}ExternalAccountKeyId and ExternalAccountHmacKey go together: set both or neither.");
        }
        else if (!string.IsNullOrEmpty(hmacKey))
        {
            try
            {
                _ = AcmeExternalAccountBinding.FromBase64Url(keyId!, hmacKey);
            }
            catch (FormatException)
            {
                errors.Add($"{prefix}ExternalAccountHmacKey is not base64url text as the CA gives it.");
            }
        }

        if (email is { Length: > 0 } && (!email.Contains('@', StringComparison.Ordinal) || email.Any(char.IsWhiteSpace)))
        {
            errors.Add($"{prefix}Email '{email}' is not an e-mail address.");
        }
    }

    private static void ValidateFallbacks(AcmeIssuerOptions options, List<string> errors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (options.DirectoryUrl is { IsAbsoluteUri: true } primary)
        {
            seen.Add(primary.AbsoluteUri);
        }

        for (var i = 0; i < options.Fallbacks.Count; i++)
        {
            var fallback = options.Fallbacks[i];
            var key = $"Provisioning:Acme:Fallbacks:{i}";
            if (fallback?.DirectoryUrl is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            {
                errors.Add($"{key}:DirectoryUrl must be the fallback CA's absolute https directory URL, e.g. {AcmeDirectories.ZeroSsl}.");
                continue;
            }

            if (url.AbsoluteUri.Length > 512)
            {
                errors.Add($"{key}:DirectoryUrl is longer than 512 characters.");
            }
            else if (!seen.Add(url.AbsoluteUri))
            {
                errors.Add($"{key}:DirectoryUrl {url} is already the primary's or an earlier fallback's: each CA once.");
            }

            ValidateAccount(key + ":", fallback.ExternalAccountKeyId, fallback.ExternalAccountHmacKey, fallback.Email, errors);
        }
    }
}
