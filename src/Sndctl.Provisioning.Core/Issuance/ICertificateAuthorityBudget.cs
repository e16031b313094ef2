namespace Sndctl.Provisioning.Core;

/// <summary>
/// What a CA's published budgets leave (registered by issuers that have them: ACME). Served to admins as
/// <c>GET /api/admin/acme/budget</c>.
/// </summary>
public interface ICertificateAuthorityBudget
{
    /// <summary>The budget of each registered domain the fleet's names count against, and the issuance queue.</summary>
    Task<CertificateAuthorityBudgetReport> GetReportAsync(CancellationToken cancellationToken);
}

/// <summary>A CA budget report.</summary>
/// <param name="Domains">One entry per registered domain.</param>
/// <param name="QueueDepth">New issuances waiting for budget.</param>
/// <param name="QueueDrainsAt">When the queue is expected to be empty, when it is not.</param>
/// <param name="RenewalsDueThisWeek">Current certificates whose renewal time comes within 7 days (or has come): they go ahead of new devices.</param>
public sealed record CertificateAuthorityBudgetReport(IReadOnlyList<RegisteredDomainBudget> Domains, int QueueDepth, DateTimeOffset? QueueDrainsAt, int RenewalsDueThisWeek = 0);

/// <summary>One registered domain's budget.</summary>
/// <param name="RegisteredDomain">The registered domain (Public Suffix List), e.g. <c>example.com</c>.</param>
/// <param name="Limit">New certificates the CA allows per <paramref name="Window"/> (0: no budget counted).</param>
/// <param name="Used">Slots used in the window now.</param>
/// <param name="Window">The window.</param>
/// <param name="NextSlotAt">When the next slot is free (now when one is).</param>
public sealed record RegisteredDomainBudget(string RegisteredDomain, int Limit, int Used, TimeSpan Window, DateTimeOffset NextSlotAt);
