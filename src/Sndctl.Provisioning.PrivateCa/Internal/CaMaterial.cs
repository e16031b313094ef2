namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>The CA as kept in the issuer-state store: certificates in PEM, keys encrypted with Data Protection.</summary>
internal sealed record CaMaterial(string RootCertificatePem, string? ProtectedRootKey, string IssuerCertificatePem, string ProtectedIssuerKey)
{
    /// <summary>The device issuing CAs replaced by a rollover, oldest first (their certificates; the keys are not kept).</summary>
    public IReadOnlyList<string>? PreviousIssuerCertificatePems { get; init; }
}

/// <summary>A CSR intermediate as kept in the issuer-state store.</summary>
internal sealed record CsrIssuerMaterial(string CertificatePem, string ProtectedKey);

/// <summary>The wire names of the CSR certificate types.</summary>
internal static class CsrTypes
{
    public static string Name(Sndctl.Provisioning.Core.CsrCertificateType type) => type == Sndctl.Provisioning.Core.CsrCertificateType.Webhook ? "webhook" : "private_server";

    public static bool TryParse(string? name, out Sndctl.Provisioning.Core.CsrCertificateType type)
    {
        type = Sndctl.Provisioning.Core.CsrCertificateType.Webhook;
        switch (name)
        {
            case null or "webhook":
                return true;
            case "private_server":
                type = Sndctl.Provisioning.Core.CsrCertificateType.PrivateServer;
                return true;
            default:
                return false;
        }
    }
}
