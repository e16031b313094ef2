using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// Folds the device counts' changes (a row per device insert, delete or change of cell, <see cref="DeviceCounts"/>) into
/// one row per cell, every minute, on one instance at a time: reading the counts then sums a few dozen rows, and the
/// table holds at most a minute's changes beyond them (a larger backlog, such as a million devices created at once, in
/// bounded batches, one per run).
/// </summary>
internal sealed partial class DeviceCountCompactionJob<TContext>(ILogger<DeviceCountCompactionJob<TContext>> logger) : IProvisioningJob
    where TContext : DbContext
{
    public string Name => "device-count-compaction";

    /// <summary>The most batches one run folds (a bound on its time; the rest waits for the next run).</summary>
    private const int MaxBatches = 100;

    /// <summary>A fold of at least this many changes is followed by a rewrite of the table (PostgreSQL, <see cref="DeviceCounts.VacuumAsync"/>).</summary>
    private const int VacuumAfter = 10_000;

    public TimeSpan Interval => TimeSpan.FromMinutes(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        // Batch by batch (each its own short transaction, so writers go on between them) until the backlog is folded.
        var context = services.GetRequiredService<TContext>();
        var folded = 0;
        for (var batch = 0; batch < MaxBatches; batch++)
        {
            var rows = await DeviceCounts.CompactAsync(context, cancellationToken).ConfigureAwait(false);
            folded += rows;
            if (rows < DeviceCounts.CompactionBatch)
            {
                break;
            }
        }

        if (folded >= VacuumAfter)
        {
            await DeviceCounts.VacuumAsync(context, cancellationToken).ConfigureAwait(false);
        }

        if (folded > 0)
        {
            Log.Folded(logger, folded);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Folded {Count} changes of the device counts.")]
        public static partial void Folded(ILogger logger, int count);
    }
}
