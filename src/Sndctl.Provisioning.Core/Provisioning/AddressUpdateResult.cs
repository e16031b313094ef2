using System.Net;

namespace Sndctl.Provisioning.Core;

/// <summary>How an address update ended.</summary>
/// <param name="Outcome"><see cref="ProvisioningOutcome.Current"/> when the set is stored; otherwise why not.</param>
/// <param name="Hostname">The device's hostname, when stored.</param>
/// <param name="Addresses">The stored set, when stored.</param>
/// <param name="RetryAfter">When to try again (<see cref="ProvisioningOutcome.AddressChangesLimited"/>).</param>
/// <param name="Detail">What was wrong, for a refusal.</param>
public sealed record AddressUpdateResult(
    ProvisioningOutcome Outcome,
    string? Hostname = null,
    IReadOnlyList<IPAddress>? Addresses = null,
    TimeSpan? RetryAfter = null,
    string? Detail = null);
