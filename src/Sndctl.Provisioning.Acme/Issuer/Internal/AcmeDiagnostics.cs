using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>The ActivitySource <c>Sndctl.Provisioning.Acme</c>.</summary>
internal static class AcmeDiagnostics
{
    public const string Name = "Sndctl.Provisioning.Acme";

    public static readonly ActivitySource ActivitySource = new(Name);
}

/// <summary>
/// The package's one Meter, <c>Sndctl.Provisioning.Acme</c>, made by the application's
/// <see cref="IMeterFactory"/>: where issuance time goes.
/// </summary>
internal sealed class AcmeMetrics
{
    private static readonly Lazy<AcmeMetrics> s_standalone = new(() => new AcmeMetrics(new Meter(AcmeDiagnostics.Name), TimeProvider.System));
    private readonly TimeProvider _time;

    public AcmeMetrics(IMeterFactory meterFactory, TimeProvider time)
        : this(meterFactory.Create(AcmeDiagnostics.Name), time)
    {
    }

    private AcmeMetrics(Meter meter, TimeProvider time)
    {
        _time = time;
        RequestDuration = meter.CreateHistogram<double>("sndctl.acme.request.duration", "s", "Duration of one HTTP exchange with the ACME server.");
        PollWait = meter.CreateHistogram<double>("sndctl.acme.poll.wait", "s", "Time spent waiting between polls of an authorization or order.");
        DnsProviderDuration = meter.CreateHistogram<double>("sndctl.acme.dns.provider.duration", "s", "Duration of one DNS provider call.");
        PropagationDuration = meter.CreateHistogram<double>("sndctl.acme.dns.propagation.duration", "s", "Time until every checked nameserver answered the TXT value.");
        IssuanceDuration = meter.CreateHistogram<double>("sndctl.acme.issuance.duration", "s", "Duration of one ACME issuance, order to downloaded chain.");
        _problems = meter.CreateCounter<long>("sndctl.acme.problems", description: "Problem documents the ACME server answered, by type (badNonce, rateLimited, ...).");

        // The CA budget, refreshed by the acme-budget job: reported only by the instance leading it.
        meter.CreateObservableGauge("sndctl.acme.budget.used", () => Budget(d => d.Used), description: "New certificates counted against the CA's budget in its window, per registered domain.");
        meter.CreateObservableGauge("sndctl.acme.budget.limit", () => Budget(d => d.Limit), description: "The CA's budget of new certificates per window, per registered domain.");
        meter.CreateObservableGauge<int>("sndctl.acme.queue.depth", () => _budget is { } b && Fresh(b) ? [new Measurement<int>(b.Report.QueueDepth)] : [], description: "New devices waiting for the CA's budget.");
        meter.CreateObservableGauge<double>("sndctl.acme.queue.drain_time", () => _budget is { } b && Fresh(b) && b.Report.QueueDrainsAt is { } at ? [new Measurement<double>(Math.Max(0, (at - _time.GetUtcNow()).TotalSeconds))] : [], unit: "s", description: "Time until the last queued device is expected to have a slot.");
        meter.CreateObservableGauge<int>("sndctl.acme.renewals.due_week", () => _budget is { } b && Fresh(b) ? [new Measurement<int>(b.Report.RenewalsDueThisWeek)] : [], description: "Current certificates whose renewal time comes within 7 days (they go ahead of new devices).");
    }

    private volatile BudgetSnapshot? _budget;

    /// <summary>The latest budget report, from the acme-budget job.</summary>
    public void BudgetReport(Sndctl.Provisioning.Core.CertificateAuthorityBudgetReport report) => _budget = new BudgetSnapshot(report, _time.GetTimestamp());

    private bool Fresh(BudgetSnapshot snapshot) => _time.GetElapsedTime(snapshot.At) < TimeSpan.FromMinutes(3);

    private IEnumerable<Measurement<int>> Budget(Func<Sndctl.Provisioning.Core.RegisteredDomainBudget, int> value)
        => _budget is { } snapshot && Fresh(snapshot)
            ? snapshot.Report.Domains.Select(d => new Measurement<int>(value(d), new KeyValuePair<string, object?>("registered_domain", d.RegisteredDomain)))
            : [];

    private sealed record BudgetSnapshot(Sndctl.Provisioning.Core.CertificateAuthorityBudgetReport Report, long At);

    private readonly Counter<long> _problems;

    /// <summary>Counts one problem document by its short type (the part after <c>urn:ietf:params:acme:error:</c>).</summary>
    public void Problem(string? type)
    {
        var shortType = type is null ? "none"
            : type.StartsWith(AcmeErrorTypes.Prefix, StringComparison.Ordinal) ? type[AcmeErrorTypes.Prefix.Length..]
            : "other";
        _problems.Add(1, new KeyValuePair<string, object?>("type", shortType));
    }

    /// <summary>Records one HTTP exchange with the CA by method and status code (0: no answer).</summary>
    public void Request(string method, int statusCode, double seconds)
        => RequestDuration.Record(seconds, new KeyValuePair<string, object?>("http.request.method", method), new KeyValuePair<string, object?>("http.response.status_code", statusCode));

    /// <summary>Records one DNS provider call by operation (create, delete) and outcome (ok, error).</summary>
    public void DnsProviderCall(string operation, bool succeeded, double seconds)
        => DnsProviderDuration.Record(seconds, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("outcome", succeeded ? "ok" : "error"));

    /// <summary>For an <see cref="AcmeClient"/> made without a meter factory: one meter for all of them.</summary>
    public static AcmeMetrics Standalone => s_standalone.Value;

    /// <summary>Each HTTP exchange with the CA, seconds.</summary>
    public Histogram<double> RequestDuration { get; }

    /// <summary>Each wait between polls, seconds.</summary>
    public Histogram<double> PollWait { get; }

    /// <summary>Each DNS provider call (create or delete a TXT record), seconds.</summary>
    public Histogram<double> DnsProviderDuration { get; }

    /// <summary>Each wait for TXT propagation, seconds.</summary>
    public Histogram<double> PropagationDuration { get; }

    /// <summary>Each whole issuance, seconds.</summary>
    public Histogram<double> IssuanceDuration { get; }
}
