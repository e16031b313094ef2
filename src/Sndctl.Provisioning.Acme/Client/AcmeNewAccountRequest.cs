
namespace Sndctl.Provisioning.Acme;

/// <summary>What to send when creating an account.</summary>
public sealed record AcmeNewAccountRequest
{
    /// <summary>Contact URLs, e.g. <c>mailto:ops@example.com</c>.</summary>
    public IReadOnlyList<string>? Contact { get; init; }

    /// <summary>Agrees to the CA's terms of service (required by most CAs).</summary>
    public bool TermsOfServiceAgreed { get; init; }

    /// <summary>Binds the account to an account at the CA (RFC 8555 §7.3.4), when the CA requires it.</summary>
    public AcmeExternalAccountBinding? ExternalAccountBinding { get; init; }
}
