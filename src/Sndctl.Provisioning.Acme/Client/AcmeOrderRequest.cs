
namespace Sndctl.Provisioning.Acme;

/// <summary>What to ask for in a new order (RFC 8555 §7.4, RFC 9773 §5).</summary>
public sealed record AcmeOrderRequest
{
    /// <summary>The names the certificate will carry.</summary>
    public required IReadOnlyList<AcmeIdentifier> Identifiers { get; init; }

    /// <summary>Requested notBefore, if the CA supports it.</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>Requested notAfter, if the CA supports it.</summary>
    public DateTimeOffset? NotAfter { get; init; }

    /// <summary>The ARI certificate identifier of the certificate this order renews (<see cref="AcmeCertificateIdentifier"/>).</summary>
    public string? Replaces { get; init; }

    /// <summary>A certificate profile the directory offers.</summary>
    public string? Profile { get; init; }
}
