using System.Diagnostics.Metrics;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>The Meter <c>Sndctl.Provisioning.AcmeServer</c>: the front door's answers by resource and status.</summary>
internal sealed class AcmeServerMetrics(IMeterFactory meterFactory)
{
    public const string MeterName = "Sndctl.Provisioning.AcmeServer";

    private readonly Counter<long> _requests = meterFactory.Create(MeterName)
        .CreateCounter<long>("sndctl.acmeserver.requests", description: "ACME front door answers by resource (directory, newAccount, finalize, ...) and HTTP status.");

    public void Answered(AcmeServerResource resource, int status)
        => _requests.Add(1, new KeyValuePair<string, object?>("resource", resource.ToString()), new KeyValuePair<string, object?>("http.response.status_code", status));
}
