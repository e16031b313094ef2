namespace Sndctl.Provisioning.Core;

/// <summary>How long records are kept before the retention job deletes them.</summary>
public sealed class RetentionOptions
{
    /// <summary>Audit events older than this are deleted (<c>Provisioning:Retention:AuditEvents</c>). Default 400 days.</summary>
    public TimeSpan AuditEvents { get; set; } = TimeSpan.FromDays(400);
}
