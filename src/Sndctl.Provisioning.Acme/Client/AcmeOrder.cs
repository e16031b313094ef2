using System.Text.Json.Serialization;

namespace Sndctl.Provisioning.Acme;

/// <summary>An ACME order (RFC 8555 §7.1.3).</summary>
public sealed record AcmeOrder
{
    /// <summary>The order URL, from the <c>Location</c> header (kept across polls).</summary>
    [JsonIgnore]
    public Uri Location { get; init; } = null!;

    /// <summary><c>pending</c>, <c>ready</c>, <c>processing</c>, <c>valid</c> or <c>invalid</c>.</summary>
    public required string Status { get; init; }

    /// <summary>When the order expires.</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>The identifiers ordered.</summary>
    public IReadOnlyList<AcmeIdentifier> Identifiers { get; init; } = [];

    /// <summary>One authorization URL per identifier.</summary>
    public IReadOnlyList<Uri> Authorizations { get; init; } = [];

    /// <summary>Where to send the CSR.</summary>
    public Uri? Finalize { get; init; }

    /// <summary>The certificate URL once the order is valid.</summary>
    public Uri? Certificate { get; init; }

    /// <summary>Why the order is invalid.</summary>
    public AcmeProblem? Error { get; init; }

    /// <summary>The certificate this order replaces (RFC 9773), as echoed by the CA.</summary>
    public string? Replaces { get; init; }

    /// <summary>The profile, as echoed by the CA.</summary>
    public string? Profile { get; init; }
}
