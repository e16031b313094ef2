namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>The CA as kept in the issuer-state store: certificates in PEM, keys encrypted with Data Protection.</summary>
internal sealed record CaMaterial(string RootCertificatePem, string ProtectedRootKey, string IssuerCertificatePem, string ProtectedIssuerKey);
