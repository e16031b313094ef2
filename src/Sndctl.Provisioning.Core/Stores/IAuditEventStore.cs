namespace Sndctl.Provisioning.Core;

/// <summary>Persists audit events.</summary>
public interface IAuditEventStore
{
    /// <summary>Appends an event.</summary>
    Task AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken);

    /// <summary>A page of events, newest first, for one device or all.</summary>
    Task<Page<AuditEvent>> ListAsync(string? deviceId, int page, int pageSize, CancellationToken cancellationToken);
}
