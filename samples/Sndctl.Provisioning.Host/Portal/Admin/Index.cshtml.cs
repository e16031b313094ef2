using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Host.Portal;

/// <summary>The dashboard: devices by status, certificates about to expire, issuance over time, the CA's budget.</summary>
public sealed class DashboardModel(IDeviceAdminService admin, ICertificateIssuer issuer, HealthCheckService health, TimeProvider time, IServiceProvider services) : PageModel
{
    public const int ChartDays = 14;
    private const int MaxEventsRead = 20_000;

    public FleetStatistics Statistics { get; private set; } = null!;

    public IReadOnlyList<DayCount> Days { get; private set; } = [];

    public string IssuerName => issuer.Name;

    public int IssuedLast7Days { get; private set; }

    public HealthReportEntry? IssuerHealth { get; private set; }

    /// <summary>The CA's budgets and queue (ACME), from the same report as <c>GET /api/admin/acme/budget</c>.</summary>
    public CertificateAuthorityBudgetReport? Budget { get; private set; }

    public bool Truncated { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        ViewData["Nav"] = "dashboard";
        Statistics = await admin.GetStatisticsAsync(cancellationToken);
        if (services.GetService(typeof(ICertificateAuthorityBudget)) is ICertificateAuthorityBudget budget)
        {
            Budget = await budget.GetReportAsync(cancellationToken);
        }

        var today = time.GetUtcNow().UtcDateTime.Date;
        var since = today.AddDays(-(ChartDays - 1));
        var issued = new int[ChartDays];
        var failed = new int[ChartDays];
        var weekStart = time.GetUtcNow().AddDays(-7);

        // Events come newest first: read pages until the window is passed (bounded).
        var read = 0;
        for (var page = 1; read < MaxEventsRead; page++)
        {
            var events = await admin.ListEventsAsync(null, page, 500, cancellationToken);
            foreach (var e in events.Items)
            {
                var day = (e.Timestamp.UtcDateTime.Date - since).Days;
                if (day is >= 0 and < ChartDays)
                {
                    if (e.Type == AuditEventTypes.CertificateIssued)
                    {
                        issued[day]++;
                    }
                    else if (e.Type == AuditEventTypes.CertificateFailed)
                    {
                        failed[day]++;
                    }
                }

                if (e.Type == AuditEventTypes.CertificateIssued && e.Timestamp >= weekStart)
                {
                    IssuedLast7Days++;
                }
            }

            read += events.Items.Count;
            if (events.Items.Count < 500 || events.Items[^1].Timestamp.UtcDateTime < since)
            {
                break;
            }
        }

        Truncated = read >= MaxEventsRead;
        Days = [.. Enumerable.Range(0, ChartDays).Select(i => new DayCount(DateOnly.FromDateTime(since.AddDays(i)), issued[i], failed[i]))];
        var report = await health.CheckHealthAsync(r => r.Name == "issuer", cancellationToken);
        IssuerHealth = report.Entries.TryGetValue("issuer", out var entry) ? entry : null;
    }

    public sealed record DayCount(DateOnly Day, int Issued, int Failed);
}
