namespace Sndctl.Provisioning.Core;

/// <summary>The names and the tag of the health checks the packages register (<c>GET /api/health</c> lists them by name).</summary>
public static class ProvisioningHealthChecks
{
    /// <summary>The tag every package check carries, for an app that maps its own health endpoints and filters by tag.</summary>
    public const string ReadyTag = "ready";

    /// <summary>The certificate issuer: registered by each issuer package's <c>Use*</c>.</summary>
    public const string Issuer = "issuer";

    /// <summary>The database behind the stores.</summary>
    public const string Database = "database";

    /// <summary>The DNS provider's credentials and zone.</summary>
    public const string Dns = "dns";
}
