using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.PrivateCa.Internal;

internal sealed class PrivateCaOptionsValidator : IValidateOptions<PrivateCaOptions>
{
    public ValidateOptionsResult Validate(string? name, PrivateCaOptions options)
    {
        var failures = new List<string>();
        if (options.CertificateLifetime < TimeSpan.FromHours(1) || options.CertificateLifetime > TimeSpan.FromDays(398))
        {
            failures.Add("Provisioning:PrivateCa:CertificateLifetime must be between 1 hour and 398 days (e.g. '90.00:00:00').");
        }

        if (options.Backdate < TimeSpan.Zero || options.Backdate > TimeSpan.FromDays(1))
        {
            failures.Add("Provisioning:PrivateCa:Backdate must be between 0 and 1 day.");
        }

        if (!Enum.IsDefined(options.KeyAlgorithm))
        {
            failures.Add("Provisioning:PrivateCa:KeyAlgorithm must be EcdsaP256, Rsa2048 or Rsa3072.");
        }

        var files = new[] { options.RootCertificateFile, options.IssuerCertificateFile, options.IssuerKeyFile };
        var given = files.Count(f => !string.IsNullOrWhiteSpace(f));
        if (given is not 0 and not 3)
        {
            failures.Add("Provisioning:PrivateCa:RootCertificateFile, IssuerCertificateFile and IssuerKeyFile go together: set all three to load an existing CA, or none to let the server make one.");
        }
        else if (given == 3)
        {
            failures.AddRange(files.Where(f => !File.Exists(f)).Select(f => $"Private CA file '{f}' does not exist."));
        }

        if (!string.IsNullOrWhiteSpace(options.RootKeyFile) && !File.Exists(options.RootKeyFile))
        {
            failures.Add($"Private CA file '{options.RootKeyFile}' (RootKeyFile) does not exist.");
        }

        if (!string.IsNullOrWhiteSpace(options.RootKeyPassphraseFile) && !File.Exists(options.RootKeyPassphraseFile))
        {
            failures.Add($"Private CA file '{options.RootKeyPassphraseFile}' (RootKeyPassphraseFile) does not exist.");
        }

        if (!Enum.IsDefined(options.Approval))
        {
            failures.Add("Provisioning:PrivateCa:Approval must be Auto or Manual.");
        }

        if (options.MaxPendingPerClient < 1)
        {
            failures.Add("Provisioning:PrivateCa:MaxPendingPerClient must be 1 or more.");
        }

        if (options.DeniedRetention < TimeSpan.FromMinutes(1))
        {
            failures.Add("Provisioning:PrivateCa:DeniedRetention must be at least a minute (e.g. '7.00:00:00').");
        }

        if (options.PostsPerMinute < 0)
        {
            failures.Add("Provisioning:PrivateCa:PostsPerMinute must be 0 (no limit) or more.");
        }

        if (options.NetworkPostsPerMinute < 0)
        {
            failures.Add("Provisioning:PrivateCa:NetworkPostsPerMinute must be 0 (no limit) or more.");
        }

        if (options.PendingExpiry < TimeSpan.FromHours(1))
        {
            failures.Add("Provisioning:PrivateCa:PendingExpiry must be at least an hour (e.g. '30.00:00:00').");
        }

        if (options.ExpiredRetention < TimeSpan.Zero)
        {
            failures.Add("Provisioning:PrivateCa:ExpiredRetention must not be negative (e.g. '30.00:00:00').");
        }

        if (options.CsrCertificateLifetime < TimeSpan.FromHours(1) || options.CsrCertificateLifetime > TimeSpan.FromDays(398))
        {
            failures.Add("Provisioning:PrivateCa:CsrCertificateLifetime must be between 1 hour and 398 days.");
        }

        if (options.CrlBaseUrl is { } crl && (!crl.IsAbsoluteUri || (crl.Scheme != Uri.UriSchemeHttp && crl.Scheme != Uri.UriSchemeHttps)))
        {
            failures.Add("Provisioning:PrivateCa:CrlBaseUrl must be an absolute http(s) URL, e.g. https://ca.example.com/.");
        }

        if (options.CrlLifetime < TimeSpan.FromMinutes(5) || options.CrlLifetime > TimeSpan.FromDays(30))
        {
            failures.Add("Provisioning:PrivateCa:CrlLifetime must be between 5 minutes and 30 days.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
