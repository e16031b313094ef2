namespace Sndctl.Provisioning.Core;

/// <summary>A TXT value placed by an <see cref="IDnsProvider"/>.</summary>
/// <param name="Name">Fully qualified record name.</param>
/// <param name="Value">The TXT value.</param>
/// <param name="ProviderId">The provider's own identifier for the record (zone and record ID), if it has one.</param>
public sealed record DnsTxtRecord(string Name, string Value, string? ProviderId);
