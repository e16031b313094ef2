
namespace Sndctl.Provisioning.Acme;

/// <summary>The directory's <c>meta</c> object.</summary>
public sealed record AcmeDirectoryMeta
{
    /// <summary>The terms of service the account must agree to.</summary>
    public Uri? TermsOfService { get; init; }

    /// <summary>The CA's website.</summary>
    public Uri? Website { get; init; }

    /// <summary>CAA issuer domain names that identify this CA.</summary>
    public IReadOnlyList<string>? CaaIdentities { get; init; }

    /// <summary>New accounts must carry an External Account Binding.</summary>
    public bool ExternalAccountRequired { get; init; }

    /// <summary>Certificate profiles offered, name to description (draft-aaron-acme-profiles).</summary>
    public IReadOnlyDictionary<string, string>? Profiles { get; init; }
}
