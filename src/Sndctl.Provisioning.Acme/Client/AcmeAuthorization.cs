using System.Text.Json.Serialization;

namespace Sndctl.Provisioning.Acme;

/// <summary>An ACME authorization (RFC 8555 §7.1.4).</summary>
public sealed record AcmeAuthorization
{
    /// <summary>The authorization URL.</summary>
    [JsonIgnore]
    public Uri Location { get; init; } = null!;

    /// <summary>The identifier being authorized.</summary>
    public required AcmeIdentifier Identifier { get; init; }

    /// <summary><c>pending</c>, <c>valid</c>, <c>invalid</c>, <c>deactivated</c>, <c>expired</c> or <c>revoked</c>.</summary>
    public required string Status { get; init; }

    /// <summary>When the authorization expires.</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>Ways to prove control, in the CA's order (which may be random).</summary>
    public IReadOnlyList<AcmeChallenge> Challenges { get; init; } = [];

    /// <summary>True for a wildcard authorization.</summary>
    public bool Wildcard { get; init; }
}
