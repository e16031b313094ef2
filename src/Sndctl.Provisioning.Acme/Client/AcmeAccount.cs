using System.Text.Json.Serialization;

namespace Sndctl.Provisioning.Acme;

/// <summary>An ACME account (RFC 8555 §7.1.2).</summary>
public sealed record AcmeAccount
{
    /// <summary>The account URL (the JWS <c>kid</c>); from the <c>Location</c> header.</summary>
    [JsonIgnore]
    public Uri Location { get; init; } = null!;

    /// <summary><c>valid</c>, <c>deactivated</c> or <c>revoked</c>.</summary>
    public string? Status { get; init; }

    /// <summary>Contact URLs such as <c>mailto:ops@example.com</c>.</summary>
    public IReadOnlyList<string>? Contact { get; init; }

    /// <summary>The account's orders list URL.</summary>
    public Uri? Orders { get; init; }

    /// <summary>True when the CA answered 201 (a new account), false when it found an existing one.</summary>
    [JsonIgnore]
    public bool Created { get; init; }
}
