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

    /// <summary>
    /// Further ACME CAs, in order (<c>Provisioning:Acme:Fallbacks:N</c>), asked for a certificate when the
    /// primary (<see cref="DirectoryUrl"/>) cannot issue it: unreachable, failing, rate limited or out of budget.
    /// Every issuance asks the primary first, so renewals return to it as soon as it is back.
    /// </summary>
    public IList<AcmeFallbackOptions> Fallbacks { get; } = [];

    /// <summary>The CA's published rate limits, counted in the database before the CA is asked (<c>Provisioning:Acme:RateLimits</c>).</summary>
    public AcmeRateLimitOptions RateLimits { get; } = new();
}

/// <summary>
/// The CA's budgets (Let's Encrypt's defaults), counted in the database across instances so that a new
/// certificate the budget cannot cover is not even ordered. Renewals that carry ARI's <c>replaces</c> are
/// exempt, as at Let's Encrypt. Raise the figures when the CA grants an override.
/// </summary>
public sealed class AcmeRateLimitOptions
{
    /// <summary>New certificates per registered domain per <see cref="RegisteredDomainWindow"/> (<c>:CertificatesPerRegisteredDomain</c>, 50; 0 turns the budget off).</summary>
    public int CertificatesPerRegisteredDomain { get; set; } = 50;

    /// <summary>The window of <see cref="CertificatesPerRegisteredDomain"/> (<c>:RegisteredDomainWindow</c>, 7 days; one slot refills every window / limit).</summary>
    public TimeSpan RegisteredDomainWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>New orders per ACME account per <see cref="NewOrdersWindow"/> (<c>:NewOrdersPerAccount</c>, 300; 0 turns it off).</summary>
    public int NewOrdersPerAccount { get; set; } = 300;

    /// <summary>The window of <see cref="NewOrdersPerAccount"/> (<c>:NewOrdersWindow</c>, 3 hours).</summary>
    public TimeSpan NewOrdersWindow { get; set; } = TimeSpan.FromHours(3);

    /// <summary>
    /// A newer Public Suffix List (<c>:PublicSuffixListFile</c>, e.g. <c>/usr/share/publicsuffix/public_suffix_list.dat</c>
    /// from Debian's <c>publicsuffix</c> package, or a copy of https://publicsuffix.org/list/public_suffix_list.dat);
    /// default: the copy shipped in the package.
    /// </summary>
    public string? PublicSuffixListFile { get; set; }
}
