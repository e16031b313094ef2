namespace Sndctl.Provisioning.Acme;

/// <summary>Options of the ACME certificate issuer (<c>UseAcme()</c>).</summary>
public sealed class AcmeIssuerOptions
{
    /// <summary>The CA's directory URL: <see cref="AcmeDirectories"/> has Let's Encrypt's. Required.</summary>
    public Uri? DirectoryUrl { get; set; }

    /// <summary>Contact e-mail for the account (the CA writes about problems with it). Optional.</summary>
    public string? Email { get; set; }

    /// <summary>Agrees to the CA's terms of service; accounts cannot be created at most CAs without it.</summary>
    public bool AcceptTermsOfService { get; set; }

    /// <summary>External Account Binding key ID, for CAs that require one (ZeroSSL, Google, ...).</summary>
    public string? ExternalAccountKeyId { get; set; }

    /// <summary>External Account Binding MAC key as the CA gives it (base64url). Keep it in a secret store.</summary>
    public string? ExternalAccountHmacKey { get; set; }

    /// <summary>The account key type, used when the account is first created. Default ES256.</summary>
    public AcmeKeyAlgorithm AccountKeyAlgorithm { get; set; } = AcmeKeyAlgorithm.ES256;

    /// <summary>
    /// Prefer the chain whose top certificate is issued by or named this (e.g. <c>ISRG Root X1</c>);
    /// the CA's default chain when none matches.
    /// </summary>
    public string? PreferredChain { get; set; }

    /// <summary>A certificate profile the directory offers (e.g. Let's Encrypt's <c>shortlived</c>).</summary>
    public string? Profile { get; set; }

    /// <summary>An extra PEM root trusted for the ACME server's own HTTPS (a local Pebble's test root).</summary>
    public string? TrustedRootFile { get; set; }

    /// <summary>
    /// <c>host:port</c> (or <c>host</c>) nameservers to check TXT propagation against, and to follow
    /// <c>_acme-challenge</c> CNAMEs with, instead of the zone's authoritative nameservers.
    /// </summary>
    public IList<string> PropagationNameservers { get; } = [];

    /// <summary>
    /// <c>host:port</c> recursive resolvers used to follow CNAMEs and find the zone's nameservers;
    /// the system's resolvers when empty. Ignored when <see cref="PropagationNameservers"/> is set.
    /// </summary>
    public IList<string> Resolvers { get; } = [];

    /// <summary>The port authoritative nameservers are asked on (53; tests run fake ones elsewhere).</summary>
    internal int AuthoritativePort { get; set; } = 53;

    /// <summary>How long to wait for every nameserver to answer the TXT value. Default 2 minutes.</summary>
    public TimeSpan PropagationTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Longest pause between propagation checks (they start at 50 ms and back off). Default 2 s.</summary>
    public TimeSpan PropagationMaxInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long new orders are refused locally after the CA answered <c>rateLimited</c> without a
    /// <c>Retry-After</c>. Default 15 minutes.
    /// </summary>
    public TimeSpan RateLimitBackoff { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Most orders in flight at once from this instance. Issuance is I/O-bound and runs concurrently;
    /// this only keeps a burst (a whole fleet booting) from queueing hundreds of requests at the CA,
    /// where they would time out rather than finish sooner (Pebble 2.4 even deadlocks under a few
    /// hundred concurrent requests). Default 16.
    /// </summary>
    public int MaxConcurrentOrders { get; set; } = 16;

    /// <summary>Timeouts, polling and nonce retries of the underlying <see cref="AcmeClient"/>.</summary>
    public AcmeClientOptions Client { get; } = new();
}
