namespace Sndctl.Provisioning.Core;

/// <summary>How long records are kept before the retention job deletes them.</summary>
public sealed class RetentionOptions
{
    /// <summary>Audit events older than this are deleted (<c>Provisioning:Retention:AuditEvents</c>). Default 400 days.</summary>
    public TimeSpan AuditEvents { get; set; } = TimeSpan.FromDays(400);
}

/// <summary>Renewing ahead of the devices (<c>Provisioning:Renewal</c>).</summary>
public sealed class RenewalOptions
{
    /// <summary>
    /// Devices seen within this time whose key the server holds get their certificate renewed by the server
    /// once its renewal time comes, so their next call is served at once (<c>Provisioning:Renewal:ActiveWithin</c>,
    /// 30 days; zero turns it off: devices then renew when they call).
    /// </summary>
    public TimeSpan ActiveWithin { get; set; } = TimeSpan.FromDays(30);
}
