using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>The Meter and ActivitySource <c>Sndctl.Provisioning.Acme</c>: where issuance time goes.</summary>
internal static class AcmeDiagnostics
{
    public const string Name = "Sndctl.Provisioning.Acme";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly Meter s_meter = new(Name);

    /// <summary>Each HTTP exchange with the CA, seconds.</summary>
    public static readonly Histogram<double> RequestDuration = s_meter.CreateHistogram<double>("sndctl.acme.request.duration", "s", "Duration of one HTTP exchange with the ACME server.");

    /// <summary>Each wait between polls, seconds.</summary>
    public static readonly Histogram<double> PollWait = s_meter.CreateHistogram<double>("sndctl.acme.poll.wait", "s", "Time spent waiting between polls of an authorization or order.");

    /// <summary>Each DNS provider call (create or delete a TXT record), seconds.</summary>
    public static readonly Histogram<double> DnsProviderDuration = s_meter.CreateHistogram<double>("sndctl.acme.dns.provider.duration", "s", "Duration of one DNS provider call.");

    /// <summary>Each wait for TXT propagation, seconds.</summary>
    public static readonly Histogram<double> PropagationDuration = s_meter.CreateHistogram<double>("sndctl.acme.dns.propagation.duration", "s", "Time until every checked nameserver answered the TXT value.");

    /// <summary>Each whole issuance, seconds.</summary>
    public static readonly Histogram<double> IssuanceDuration = s_meter.CreateHistogram<double>("sndctl.acme.issuance.duration", "s", "Duration of one ACME issuance, order to downloaded chain.");
}
