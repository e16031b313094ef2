
namespace Sndctl.Provisioning.Acme;

/// <summary>An ACME challenge (RFC 8555 §7.1.5, §8).</summary>
public sealed record AcmeChallenge
{
    /// <summary><c>dns-01</c>, <c>http-01</c>, <c>tls-alpn-01</c>, ...</summary>
    public required string Type { get; init; }

    /// <summary>Where to respond.</summary>
    public required Uri Url { get; init; }

    /// <summary><c>pending</c>, <c>processing</c>, <c>valid</c> or <c>invalid</c>.</summary>
    public required string Status { get; init; }

    /// <summary>The token the key authorization is built from.</summary>
    public string? Token { get; init; }

    /// <summary>When validation succeeded.</summary>
    public DateTimeOffset? Validated { get; init; }

    /// <summary>Why validation failed.</summary>
    public AcmeProblem? Error { get; init; }
}
