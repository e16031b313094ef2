namespace Sndctl.Provisioning.Core;

/// <summary>Something that happened to a device: who, what, when. Never carries a secret or a key.</summary>
public sealed class AuditEvent
{
    /// <summary>Store identity, increasing.</summary>
    public long Id { get; init; }

    /// <summary>When it happened.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The device concerned, if any.</summary>
    public string? DeviceId { get; init; }

    /// <summary>Who did it: <c>admin:&lt;key id&gt;</c>, <c>device</c> or <c>system</c>.</summary>
    public required string Actor { get; init; }

    /// <summary>What happened, e.g. <see cref="AuditEventTypes.CertificateIssued"/>.</summary>
    public required string Type { get; init; }

    /// <summary>Human-readable detail (serial number, reason...).</summary>
    public string? Details { get; init; }
}
