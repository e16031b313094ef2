namespace Sndctl.Provisioning.Core;

/// <summary>Who the audit log names.</summary>
public static class AuditActors
{
    /// <summary>The server itself (issuance, revocation of unwanted certificates, jobs).</summary>
    public const string System = "system";
}
