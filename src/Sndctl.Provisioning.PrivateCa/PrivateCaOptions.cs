namespace Sndctl.Provisioning.PrivateCa;

/// <summary>Options of the private certificate authority.</summary>
public sealed class PrivateCaOptions
{
    /// <summary>Key type of the CA keys made at first start (and so the signature algorithm of issued certificates).</summary>
    public PrivateCaKeyAlgorithm KeyAlgorithm { get; set; } = PrivateCaKeyAlgorithm.EcdsaP256;

    /// <summary>Lifetime of device certificates. Default 90 days.</summary>
    public TimeSpan CertificateLifetime { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How far issued certificates start in the past, for devices whose clocks run behind.</summary>
    public TimeSpan Backdate { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Common name of a generated root.</summary>
    public string RootName { get; set; } = "Sndctl Provisioning Private Root CA";

    /// <summary>
    /// PEM files of an existing CA to use instead of generating one: the root certificate, and the issuing
    /// (intermediate) certificate with its PKCS#8 key. All three or none.
    /// </summary>
    public string? RootCertificateFile { get; set; }

    /// <summary>The issuing CA's certificate (PEM), signed by the root.</summary>
    public string? IssuerCertificateFile { get; set; }

    /// <summary>The issuing CA's private key (PKCS#8 PEM, unencrypted; protect the file).</summary>
    public string? IssuerKeyFile { get; set; }

    /// <summary>
    /// The root's private key (PKCS#8 PEM) when the CA is loaded from files: needed once, to make the
    /// two CSR intermediates (<c>webhook</c>, <c>private_server</c>), which are then kept in the database.
    /// Without it the CSR service answers 503.
    /// </summary>
    public string? RootKeyFile { get; set; }

    /// <summary>
    /// A file holding the passphrase of <see cref="RootKeyFile"/> when that key is encrypted (what
    /// <c>ca export-root-key --passphrase-file</c> writes). The passphrase is the file's first line.
    /// </summary>
    public string? RootKeyPassphraseFile { get; set; }

    /// <summary>How private-IP CSRs are approved: by policy at once (default), or by an admin.</summary>
    public CsrApproval Approval { get; set; } = CsrApproval.Auto;

    /// <summary>
    /// CSR submissions allowed per client address (IPv4 address or IPv6 /64) per minute (<c>POST /api/v1/csr</c>).
    /// Default 1; 0 lifts the limit.
    /// </summary>
    public int PostsPerMinute { get; set; } = 1;

    /// <summary>
    /// CSR submissions allowed per client network (IPv4 /24 or IPv6 /48: one site, however many addresses it
    /// uses) per minute, all its addresses together. Default 10; 0 lifts the limit.
    /// </summary>
    public int NetworkPostsPerMinute { get; set; } = 10;

    /// <summary>
    /// How long a request may wait for an administrator under <see cref="CsrApproval.Manual"/>; after that it is
    /// denied ("not decided in time") and purged with the denied ones. Default 30 days.
    /// </summary>
    public TimeSpan PendingExpiry { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long approved requests are kept after their certificate expired (then purged). Default 30 days.</summary>
    public TimeSpan ExpiredRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Most requests one client network (IPv4 address or IPv6 /64) may have waiting for an admin under
    /// <see cref="CsrApproval.Manual"/>; further submissions get 429 until some are decided. Default 10.
    /// </summary>
    public int MaxPendingPerClient { get; set; } = 10;

    /// <summary>How long denied requests are kept (for the client to read the reason) before they are purged. Default 7 days.</summary>
    public TimeSpan DeniedRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Lifetime of private-IP certificates. Default 365 days.</summary>
    public TimeSpan CsrCertificateLifetime { get; set; } = TimeSpan.FromDays(365);

    /// <summary>
    /// The public base URL of this server, e.g. <c>https://ca.example.com/</c>: issued private-IP
    /// certificates point to their CRL under it (<c>api/v1/ca/crl/&lt;type&gt;.crl</c>). Without it they
    /// carry no CRL distribution point.
    /// </summary>
    public Uri? CrlBaseUrl { get; set; }

    /// <summary>How long a CRL is valid (its nextUpdate); it is remade at once on a revocation. Default 1 day.</summary>
    public TimeSpan CrlLifetime { get; set; } = TimeSpan.FromDays(1);
}
