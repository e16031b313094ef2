
namespace Sndctl.Provisioning.Acme;

/// <summary>The ACME directory (RFC 8555 §7.1.1, RFC 9773 §4): where every resource lives.</summary>
public sealed record AcmeDirectory
{
    /// <summary>Where fresh nonces come from.</summary>
    public required Uri NewNonce { get; init; }

    /// <summary>Creates or finds accounts.</summary>
    public required Uri NewAccount { get; init; }

    /// <summary>Creates orders.</summary>
    public required Uri NewOrder { get; init; }

    /// <summary>Revokes certificates.</summary>
    public Uri? RevokeCert { get; init; }

    /// <summary>Rolls an account over to a new key.</summary>
    public Uri? KeyChange { get; init; }

    /// <summary>ACME Renewal Information (RFC 9773); absent when the CA does not offer it.</summary>
    public Uri? RenewalInfo { get; init; }

    /// <summary>Terms, website, EAB requirement and certificate profiles.</summary>
    public AcmeDirectoryMeta? Meta { get; init; }
}
