using System.Diagnostics.Metrics;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>The Meter <c>Sndctl.Provisioning.AspNetCore</c>: requests refused with 429, by reason.</summary>
internal sealed class HttpMetrics(IMeterFactory meterFactory)
{
    public const string MeterName = "Sndctl.Provisioning.AspNetCore";

    private readonly Counter<long> _throttled = meterFactory.Create(MeterName)
        .CreateCounter<long>("sndctl.provisioning.http.throttled", description: "Requests answered 429, by reason (too-many-failures, device-issuance-limit, too-many-requests, too-many-pending).");

    public void Throttled(string reason) => _throttled.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
