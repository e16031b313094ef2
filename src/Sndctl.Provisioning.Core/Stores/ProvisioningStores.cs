namespace Sndctl.Provisioning.Core;

/// <summary>The store seams, listed once: what a store package implements and what start-up requires.</summary>
public static class ProvisioningStores
{
    /// <summary>Every store seam a complete store package implements (the Entity Framework stores implement them all).</summary>
    public static IReadOnlyList<Type> All { get; } =
    [
        typeof(IDeviceStore),
        typeof(ICertificateStore),
        typeof(IAuditEventStore),
        typeof(IIssuerStateStore),
        typeof(IIssuanceLeaseStore),
        typeof(IIssuanceJournalStore),
        typeof(IRateLimitStore),
        typeof(ICsrRequestStore),
        typeof(IZoneRecordStore),
        typeof(IIssuanceQueueStore),
        typeof(IDeviceAcmeAccountStore),
        typeof(IDeviceAcmeOrderStore),
        typeof(IAcmeNonceStore),
    ];

    /// <summary>
    /// The stores nothing can work without: start-up fails without them. The others are needed by the features
    /// that use them (the CSR service, the embedded DNS server, the CA budget's queue, the ACME front door), which check at start.
    /// </summary>
    public static IReadOnlyList<Type> Required { get; } =
    [
        typeof(IDeviceStore),
        typeof(ICertificateStore),
        typeof(IAuditEventStore),
        typeof(IIssuerStateStore),
        typeof(IIssuanceLeaseStore),
        typeof(IIssuanceJournalStore),
        typeof(IRateLimitStore),
    ];
}
