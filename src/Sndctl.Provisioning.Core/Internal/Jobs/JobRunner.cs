using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Runs every registered <see cref="IProvisioningJob"/> on one instance at a time. Each instance tries
/// each job's lease (<c>job:{Name}</c>, in the same table as the issuance leases) every interval; the
/// holder runs the job, renews the lease by heartbeat while it runs and keeps it for one more interval,
/// so leadership stays put while the leader lives and moves within an interval when it dies.
/// </summary>
internal sealed partial class JobRunner(
    IEnumerable<IProvisioningJob> jobs,
    IServiceScopeFactory scopes,
    LeaseHolder holder,
    TimeProvider time,
    [FromKeyedServices(RemoteTime.ServiceKey)] TimeProvider remoteTime,
    ILogger<JobRunner> logger,
    ProvisioningMetrics metrics,
    Random random) : BackgroundService
{
    private readonly Random _random = random;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.WhenAll(jobs.Select(job => LoopAsync(job, stoppingToken)));

    private async Task LoopAsync(IProvisioningJob job, CancellationToken stoppingToken)
    {
        try
        {
            // Instances started together do not all ask at once.
            await Task.Delay(TimeSpan.FromSeconds(_random.Next(1, 15)), time, stoppingToken).ConfigureAwait(false);
            while (true)
            {
                // Off the timer's thread: a clock that fires timers inline (a test's) must not run the
                // job, whose database calls may be synchronous (SQLite), inside its Advance.
                await Task.Yield();
                await RunOnceAsync(job, stoppingToken).ConfigureAwait(false);
                await Task.Delay(job.Interval, time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs <paramref name="job"/> if this instance holds (or takes) its lease; <see langword="false"/> when another instance leads it.</summary>
    public async Task<bool> RunOnceAsync(IProvisioningJob job, CancellationToken stoppingToken)
    {
        var key = "job:" + job.Name;
        var hold = job.Interval + job.Interval / 2; // past the next run: the leader keeps the job
        try
        {
            var scope = scopes.CreateAsyncScope();
            await using var scopeDisposal = scope.ConfigureAwait(false);
            var leases = scope.ServiceProvider.GetRequiredService<IIssuanceLeaseStore>();
            if (!await leases.TryAcquireAsync(key, holder.Value, hold, stoppingToken).ConfigureAwait(false))
            {
                return false;
            }

            using var work = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var heartbeat = new LeaseHeartbeat(scopes, key, holder.Value, hold, remoteTime, work, logger);
            await using (heartbeat.ConfigureAwait(false))
            {
                var started = time.GetTimestamp();
                await job.RunAsync(scope.ServiceProvider, work.Token).ConfigureAwait(false);
                Log.Ran(logger, job.Name, time.GetElapsedTime(started).TotalMilliseconds);
                metrics.JobSucceeded(job.Name, job.Interval);
            }

            // Renewed at the end too: the lease runs from the end of this run to past the next one.
            await leases.TryAcquireAsync(key, holder.Value, hold, stoppingToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            Log.Failed(logger, job.Name, ex);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Job {Job} ran in {Milliseconds:0} ms.")]
        public static partial void Ran(ILogger logger, string job, double milliseconds);

        [LoggerMessage(2, LogLevel.Warning, "Job {Job} failed; it runs again at its next interval.")]
        public static partial void Failed(ILogger logger, string job, Exception exception);
    }
}
