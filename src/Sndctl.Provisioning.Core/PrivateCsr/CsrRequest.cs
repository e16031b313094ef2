namespace Sndctl.Provisioning.Core;

/// <summary>
/// A certificate signing request submitted to the private CA for a private IP address
/// (<c>POST /api/v1/csr</c>), with its decision and, once approved, its certificate.
/// </summary>
public sealed class CsrRequest
{
    /// <summary>Most characters <see cref="Metadata"/> may take serialized as JSON (System.Text.Json defaults), as stores keep it.</summary>
    public const int MaxMetadataJsonLength = 16_384;

    /// <summary>Most characters the metadata of a new submission may take serialized as JSON.</summary>
    public const int MaxSubmittedMetadataJsonLength = 4096;

    /// <summary>The request ID handed to the client (<c>request_id</c>).</summary>
    public required string Id { get; init; }

    /// <summary>Which intermediate signs it.</summary>
    public required CsrCertificateType Type { get; init; }

    /// <summary>Where the request stands.</summary>
    public CsrRequestStatus Status { get; set; }

    /// <summary>What the client is told: why it was denied, or what happens next.</summary>
    public string? Message { get; set; }

    /// <summary>
    /// The CSR as submitted (PEM), kept while the request waits for an administrator; dropped once it is decided
    /// (the certificate, or the reason, is what the client reads then), so a denied request costs little to keep.
    /// </summary>
    public string? CsrPem { get; set; }

    /// <summary>
    /// SHA-256 of the CSR's DER (lower-case hex): the same CSR submitted again is answered with this request
    /// instead of making another.
    /// </summary>
    public string? CsrSha256 { get; init; }

    /// <summary>The private IPv4 address the certificate is for (from the CSR).</summary>
    public string? IpAddress { get; init; }

    /// <summary>The client's own metadata (at most a few short key/value pairs).</summary>
    public IDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>The submitting client's address.</summary>
    public string? ClientAddress { get; init; }

    /// <summary>The submitting client's network (<see cref="Core.ClientNetwork.KeyOf"/>): pending requests are capped per network.</summary>
    public string? ClientNetwork { get; init; }

    /// <summary>When it was submitted.</summary>
    public DateTimeOffset SubmittedAt { get; init; }

    /// <summary>When it was approved or denied.</summary>
    public DateTimeOffset? DecidedAt { get; set; }

    /// <summary>Who decided: <c>policy</c> or <c>admin:&lt;key id&gt;</c>.</summary>
    public string? DecidedBy { get; set; }

    /// <summary>The issued certificate then its intermediate (PEM), once approved.</summary>
    public string? CertificatePem { get; set; }

    /// <summary>Serial number of the issued certificate (hex).</summary>
    public string? SerialNumber { get; set; }

    /// <summary>End of the issued certificate's validity.</summary>
    public DateTimeOffset? NotAfter { get; set; }

    /// <summary>When an admin revoked the issued certificate.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>Changes on every save; a stale copy cannot overwrite a newer decision.</summary>
    public Guid ConcurrencyStamp { get; set; } = Guid.NewGuid();
}
