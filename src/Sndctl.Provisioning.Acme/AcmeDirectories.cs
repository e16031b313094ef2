namespace Sndctl.Provisioning.Acme;

/// <summary>Well-known ACME directory URLs.</summary>
public static class AcmeDirectories
{
    /// <summary>Let's Encrypt production: publicly trusted certificates, strict rate limits.</summary>
    public static readonly Uri LetsEncrypt = new("https://acme-v02.api.letsencrypt.org/directory");

    /// <summary>Let's Encrypt staging: untrusted test certificates, generous rate limits. Try here first.</summary>
    public static readonly Uri LetsEncryptStaging = new("https://acme-staging-v02.api.letsencrypt.org/directory");
}
