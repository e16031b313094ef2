namespace Sndctl.Provisioning.Acme;

/// <summary>Well-known ACME directory URLs.</summary>
public static class AcmeDirectories
{
    /// <summary>Let's Encrypt production: publicly trusted certificates, strict rate limits.</summary>
    public static readonly Uri LetsEncrypt = new("https://acme-v02.api.letsencrypt.org/directory");

    /// <summary>Let's Encrypt staging: untrusted test certificates, generous rate limits. Try here first.</summary>
    public static readonly Uri LetsEncryptStaging = new("https://acme-staging-v02.api.letsencrypt.org/directory");

    /// <summary>ZeroSSL (Sectigo): publicly trusted; needs External Account Binding from the ZeroSSL dashboard.</summary>
    public static readonly Uri ZeroSsl = new("https://acme.zerossl.com/v2/DV90");

    /// <summary>Google Trust Services: publicly trusted; needs External Account Binding from Google Cloud (<c>gcloud publicca external-account-keys create</c>).</summary>
    public static readonly Uri GoogleTrustServices = new("https://dv.acme-v02.api.pki.goog/directory");
}
