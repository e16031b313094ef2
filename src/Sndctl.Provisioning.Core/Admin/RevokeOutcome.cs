namespace Sndctl.Provisioning.Core;

/// <summary>How a revocation ended.</summary>
public enum RevokeOutcome
{
    /// <summary>The certificate was revoked; the device gets a new one on its next call.</summary>
    Revoked,
    /// <summary>No such device.</summary>
    DeviceNotFound,
    /// <summary>The device holds no certificate.</summary>
    NoCertificate,
    /// <summary>The certificate came from an issuer this server no longer uses.</summary>
    IssuerMismatch,
}
