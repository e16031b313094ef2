namespace Sndctl.Provisioning.Core;

/// <summary>Persists audit events.</summary>
public interface IAuditEventStore
{
    /// <summary>Appends an event.</summary>
    Task AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken);

    /// <summary>Deletes the events older than <paramref name="before"/>; returns how many.</summary>
    Task<int> PurgeBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>A page of events, newest first, for one device or all.</summary>
    Task<Page<AuditEvent>> ListAsync(string? deviceId, int page, int pageSize, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="max"/> events with an ID above <paramref name="afterId"/> and a timestamp before
    /// <paramref name="writtenBefore"/>, oldest (lowest ID) first: an export resumes from the last ID it received.
    /// </summary>
    Task<IReadOnlyList<AuditEvent>> ListAfterAsync(long afterId, DateTimeOffset writtenBefore, int max, CancellationToken cancellationToken);
}
