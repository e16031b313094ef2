using System.Diagnostics.Metrics;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>The Meter <c>Sndctl.Provisioning.PrivateCa</c>: CSR submissions by outcome.</summary>
internal sealed class CsrMetrics(IMeterFactory meterFactory)
{
    public const string MeterName = "Sndctl.Provisioning.PrivateCa";

    private readonly Counter<long> _submissions = meterFactory.Create(MeterName)
        .CreateCounter<long>("sndctl.privateca.csr.submissions", description: "Private-IP CSR submissions by outcome (approved, denied, pending, rejected, limited, repeated: the same CSR answered with its request).");

    public void Submitted(string outcome) => _submissions.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
