namespace Sndctl.Provisioning.Acme;

/// <summary>
/// A further ACME CA (<c>Provisioning:Acme:Fallbacks:N</c>, in order) that issues new certificates while the
/// primary is unreachable, failing or out of budget: ZeroSSL, Google Trust Services, Buypass. It has its own
/// account (and External Account Binding when the CA requires one); every other setting (terms of service,
/// account key type, trusted root, DNS propagation, client timeouts) is the primary's. The primary's
/// <see cref="AcmeIssuerOptions.RateLimits"/> do not apply: a fallback's own <c>rateLimited</c> answers pause it.
/// </summary>
public sealed class AcmeFallbackOptions
{
    /// <summary>The CA's directory URL (<c>:DirectoryUrl</c>), e.g. <see cref="AcmeDirectories.ZeroSsl"/>. Required.</summary>
    public Uri? DirectoryUrl { get; set; }

    /// <summary>Contact e-mail for this account (<c>:Email</c>); the primary's when unset.</summary>
    public string? Email { get; set; }

    /// <summary>External Account Binding key ID (<c>:ExternalAccountKeyId</c>), for CAs that require one.</summary>
    public string? ExternalAccountKeyId { get; set; }

    /// <summary>External Account Binding MAC key as the CA gives it, base64url (<c>:ExternalAccountHmacKey</c>). Keep it in a secret store.</summary>
    public string? ExternalAccountHmacKey { get; set; }
}
