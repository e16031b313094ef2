
namespace Sndctl.Provisioning.Acme;

/// <summary>The ARI suggested window.</summary>
/// <param name="Start">Renew no earlier than this.</param>
/// <param name="End">Renew before this.</param>
public sealed record AcmeRenewalWindow(DateTimeOffset Start, DateTimeOffset End);
