using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sndctl.Provisioning.Core.Internal;

internal static class ProvisioningDiagnostics
{
    public const string Name = "Sndctl.Provisioning.Core";
    public static readonly ActivitySource ActivitySource = new(Name);
}

/// <summary>Meter <c>Sndctl.Provisioning.Core</c>: issuances, failures and issuance time.</summary>
internal sealed class ProvisioningMetrics
{
    private readonly Counter<long> _issued;
    private readonly Counter<long> _failed;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _served;
    private readonly Counter<long> _orphansRemoved;
    private readonly Counter<long> _addressPublications;
    private readonly Counter<long> _resumed;
    private readonly Counter<long> _expiryWarnings;
    private readonly TimeProvider _time;

    public ProvisioningMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        _time = time;
        var meter = meterFactory.Create(ProvisioningDiagnostics.Name);
        _issued = meter.CreateCounter<long>("sndctl.provisioning.certificates.issued", description: "Certificates issued.");
        _failed = meter.CreateCounter<long>("sndctl.provisioning.certificates.failed", description: "Issuances that failed.");
        _served = meter.CreateCounter<long>("sndctl.provisioning.certificates.served", description: "Register or renew calls answered with the current certificate.");
        _orphansRemoved = meter.CreateCounter<long>("sndctl.provisioning.dns.orphans_removed", description: "DNS records left behind by issuances that ended without removing them (a crash), removed later.");
        _addressPublications = meter.CreateCounter<long>("sndctl.provisioning.dns.address_publications", description: "A/AAAA record sets published for device hostnames, by outcome (published, failed).");
        _resumed = meter.CreateCounter<long>("sndctl.provisioning.issuance.resumed", description: "Issuances resumed from the journal after an earlier attempt ended unfinished.");
        _expiryWarnings = meter.CreateCounter<long>("sndctl.provisioning.certificates.expiry_warnings", description: "Devices whose current certificate came within 7 days of its end without a renewal (the expiry sweep).");
        _duration = meter.CreateHistogram<double>("sndctl.provisioning.issuance.duration", unit: "s", description: "Time to issue a certificate.");

        // Fleet figures from the database, refreshed by the fleet-statistics job: only the instance that
        // leads the job reports them, so a sum over instances is the fleet, not a multiple of it.
        meter.CreateObservableGauge("sndctl.provisioning.devices", ObserveDevices, description: "Devices by status (reported by the instance leading the fleet-statistics job).");
        meter.CreateObservableGauge("sndctl.provisioning.certificates.expiring", ObserveExpiring, description: "Devices whose current certificate expires within 7 or 30 days.");
        meter.CreateObservableGauge("sndctl.provisioning.devices.name_resolution", ObserveNameResolution, description: "Devices by what they last saw resolving their own hostname on their LAN (ok, blocked, other, unknown): how much of the fleet its customers reach by name.");
        meter.CreateObservableGauge("sndctl.provisioning.devices.factory_secret", ObserveFactorySecrets, description: "Devices that still hold their factory secret.");
        meter.CreateObservableGauge<double>(
            "sndctl.provisioning.certificates.earliest_expiry",
            () => Current?.EarliestCertificateExpiry is { } at ? [new Measurement<double>(at.ToUnixTimeSeconds())] : [],
            unit: "s",
            description: "Unix time at which the soonest-ending current device certificate ends (in the past when one has expired).");

        // Which build runs where (a constant 1, the version in its tags), for dashboards and for alerts during rollouts.
        var version = typeof(ProvisioningDiagnostics).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false) is [System.Reflection.AssemblyInformationalVersionAttribute informational, ..]
            ? informational.InformationalVersion.Split('+')[0]
            : "unknown";
        meter.CreateObservableGauge<int>(
            "sndctl.provisioning.build.info",
            () => [new Measurement<int>(1, new KeyValuePair<string, object?>("version", version), new KeyValuePair<string, object?>("runtime", Environment.Version.ToString()))],
            description: "Build information: 1, with the package version and .NET runtime version as tags.");

        // Operating it: when each periodic job last succeeded on this instance (with its interval, so one alert rule
        // covers every job), and what the health checks last said.
        meter.CreateObservableGauge("sndctl.provisioning.job.last_success", ObserveJobs, unit: "s", description: "Unix time at which a periodic job last succeeded on this instance (the instance that leads it).");
        meter.CreateObservableGauge("sndctl.provisioning.job.interval", ObserveJobIntervals, unit: "s", description: "How often a periodic job runs.");
        meter.CreateObservableGauge("sndctl.provisioning.health", ObserveHealth, description: "The last result of each health check: 1 healthy, 0.5 degraded, 0 unhealthy.");
    }

    private volatile FleetSnapshot? _fleet;

    /// <summary>The latest fleet figures, from the fleet-statistics job.</summary>
    public void Fleet(FleetStatistics statistics, DateTimeOffset at) => _fleet = new FleetSnapshot(statistics, at);

    /// <summary>
    /// The figures while they are fresh (the job runs every minute): an instance that lost the job's
    /// lead stops reporting within minutes instead of adding stale figures to the new leader's.
    /// </summary>
    private FleetStatistics? Current => _fleet is { } snapshot && _time.GetUtcNow() - snapshot.At < FleetFreshness ? snapshot.Statistics : null;

    private static readonly TimeSpan FleetFreshness = TimeSpan.FromMinutes(3);

    private IEnumerable<Measurement<int>> ObserveDevices()
        => Current is { } fleet
            ? Enum.GetValues<DeviceStatus>().Select(status => new Measurement<int>(
                fleet.DevicesByStatus.TryGetValue(status, out var count) ? count : 0,
                new KeyValuePair<string, object?>("status", status.ToString().ToLowerInvariant())))
            : [];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (DateTimeOffset At, TimeSpan Interval)> _jobs = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, double> _health = new(StringComparer.Ordinal);

    /// <summary>A periodic job finished without an error.</summary>
    public void JobSucceeded(string job, TimeSpan interval) => _jobs[job] = (_time.GetUtcNow(), interval);

    /// <summary>The health checks' latest results (1 healthy, 0.5 degraded, 0 unhealthy), by check name.</summary>
    public void Health(IEnumerable<KeyValuePair<string, double>> results)
    {
        foreach (var (name, value) in results)
        {
            _health[name] = value;
        }
    }

    private IEnumerable<Measurement<double>> ObserveJobs()
        => _jobs.Select(j => new Measurement<double>(j.Value.At.ToUnixTimeMilliseconds() / 1000.0, new KeyValuePair<string, object?>("job.name", j.Key)));

    private IEnumerable<Measurement<double>> ObserveJobIntervals()
        => _jobs.Select(j => new Measurement<double>(j.Value.Interval.TotalSeconds, new KeyValuePair<string, object?>("job.name", j.Key)));

    private IEnumerable<Measurement<double>> ObserveHealth()
        => _health.Select(h => new Measurement<double>(h.Value, new KeyValuePair<string, object?>("check", h.Key)));

    private IEnumerable<Measurement<int>> ObserveNameResolution()
        => Current is { } fleet
            ? Enum.GetValues<DeviceNameResolution>().Select(resolution => new Measurement<int>(
                fleet.DevicesByNameResolution.GetValueOrDefault(resolution),
                new KeyValuePair<string, object?>("resolution", resolution.ToString().ToLowerInvariant())))
            : [];

    private IEnumerable<Measurement<int>> ObserveFactorySecrets()
        => Current is { } fleet ? [new(fleet.DevicesWithFactorySecret)] : [];

    private IEnumerable<Measurement<int>> ObserveExpiring()
        => Current is { } fleet
            ? [new(fleet.ExpiringWithin7Days, new KeyValuePair<string, object?>("within", "7d")), new(fleet.ExpiringWithin30Days, new KeyValuePair<string, object?>("within", "30d"))]
            : [];

    public void Issued(string issuer, TimeSpan elapsed)
    {
        var tag = new KeyValuePair<string, object?>("issuer", issuer);
        _issued.Add(1, tag);
        _duration.Record(elapsed.TotalSeconds, tag);
    }

    public void Failed(string issuer) => _failed.Add(1, new KeyValuePair<string, object?>("issuer", issuer));

    public void Served() => _served.Add(1);

    public void ExpiryWarning() => _expiryWarnings.Add(1);

    public void AddressPublication(bool published) => _addressPublications.Add(1, new KeyValuePair<string, object?>("outcome", published ? "published" : "failed"));

    public void OrphansRemoved(int count) => _orphansRemoved.Add(count);

    public void Resumed(string issuer) => _resumed.Add(1, new KeyValuePair<string, object?>("issuer", issuer));
}

internal sealed record FleetSnapshot(FleetStatistics Statistics, DateTimeOffset At);
