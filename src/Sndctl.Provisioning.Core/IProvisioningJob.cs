namespace Sndctl.Provisioning.Core;

/// <summary>
/// Periodic work that one instance at a time does for the whole deployment (retention, sweeps):
/// the instance that holds the job's lease in the database runs it every <see cref="Interval"/>; when
/// it dies, another takes the job over within one interval. Register with
/// <c>DeviceProvisioningBuilder.AddJob&lt;TJob&gt;()</c>.
/// </summary>
public interface IProvisioningJob
{
    /// <summary>A short stable name (letters, digits, hyphens; at most 40 characters): the lease is <c>job:{Name}</c>.</summary>
    string Name { get; }

    /// <summary>How often the job runs, and how long a dead leader holds it.</summary>
    TimeSpan Interval { get; }

    /// <summary>
    /// One run, on a fresh scope's <paramref name="services"/>. <paramref name="cancellationToken"/> is
    /// cancelled when the host stops or when this instance lost the job's lease (stop writing then).
    /// </summary>
    Task RunAsync(IServiceProvider services, CancellationToken cancellationToken);
}
