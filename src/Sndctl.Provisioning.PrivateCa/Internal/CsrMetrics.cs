using System.Diagnostics.Metrics;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>The Meter <c>Sndctl.Provisioning.PrivateCa</c>: CSR submissions by outcome, and the approval backlog.</summary>
internal sealed class CsrMetrics
{
    public const string MeterName = "Sndctl.Provisioning.PrivateCa";
    private static readonly TimeSpan Freshness = TimeSpan.FromMinutes(3);

    private readonly Counter<long> _submissions;
    private readonly TimeProvider _time;
    private volatile StrongBox? _backlog;

    public CsrMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        _time = time;
        var meter = meterFactory.Create(MeterName);
        _submissions = meter.CreateCounter<long>("sndctl.privateca.csr.submissions", description: "Private-IP CSR submissions by outcome (approved, denied, pending, rejected, limited, repeated: the same CSR answered with its request).");

        // Reported by the instance that leads the csr-backlog job only, while fresh: a sum over instances is the backlog.
        meter.CreateObservableGauge("sndctl.privateca.csr.pending", () => _backlog is { } b && _time.GetUtcNow() - b.At < Freshness ? [new Measurement<int>(b.Count)] : Array.Empty<Measurement<int>>(), description: "CSR requests waiting for an admin's approval.");
    }

    public void Submitted(string outcome) => _submissions.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Backlog(int pending) => _backlog = new StrongBox(pending, _time.GetUtcNow());

    private sealed record StrongBox(int Count, DateTimeOffset At);
}
