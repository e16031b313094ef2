namespace Sndctl.Provisioning.Host;

/// <summary>
/// Gives the operating system back the memory the server GC keeps committed after a burst of requests, once the
/// process has gone quiet. The server GC sizes its youngest generation for the load it last saw and keeps it
/// committed: at a million devices, 20 s of address reports left 168 MiB committed for an 80 MiB live heap, and
/// the process's resident memory stayed there for as long as nothing allocated (the embedded DNS server's answers do
/// not). One compacting, decommitting collection when the process has allocated next to nothing for a whole
/// interval, and only when it would give back at least <see cref="SlackBytes"/>, at most once per
/// <see cref="MinimumGap"/>. Off with <c>Provisioning:Memory:TrimWhenIdle=false</c>.
/// </summary>
internal sealed partial class IdleMemoryTrim(TimeProvider time, ILogger<IdleMemoryTrim> logger) : BackgroundService
{
    /// <summary>How often the allocation count is looked at.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>Fewer bytes than this allocated over an interval is quiet (one admin page allocates more).</summary>
    public const long QuietBytes = 4L << 20;

    /// <summary>Committed memory beyond the live heap below this is not worth a full collection.</summary>
    public const long SlackBytes = 64L << 20;

    /// <summary>The least time between two trims.</summary>
    public static readonly TimeSpan MinimumGap = TimeSpan.FromMinutes(1);

    /// <summary>Whether to trim: quiet over the last interval, enough to give back, and not trimmed within <see cref="MinimumGap"/>.</summary>
    public static bool ShouldTrim(long allocatedInInterval, long committedBytes, long heapBytes, TimeSpan sinceLastTrim)
        => allocatedInInterval < QuietBytes && committedBytes - heapBytes >= SlackBytes && sinceLastTrim >= MinimumGap;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        var allocated = GC.GetTotalAllocatedBytes();
        var lastTrim = time.GetTimestamp() - (long)(MinimumGap.TotalSeconds * time.TimestampFrequency);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var now = GC.GetTotalAllocatedBytes();
                var info = GC.GetGCMemoryInfo();
                if (ShouldTrim(now - allocated, info.TotalCommittedBytes, info.HeapSizeBytes, time.GetElapsedTime(lastTrim)))
                {
                    var started = time.GetTimestamp();
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    lastTrim = time.GetTimestamp();
                    Log.Trimmed(logger, info.TotalCommittedBytes >> 20, GC.GetGCMemoryInfo().TotalCommittedBytes >> 20, (long)time.GetElapsedTime(started, lastTrim).TotalMilliseconds);
                }

                allocated = GC.GetTotalAllocatedBytes();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Quiet after a load: the GC's committed memory trimmed from {Before} MiB to {After} MiB in {Milliseconds} ms.")]
        public static partial void Trimmed(ILogger logger, long before, long after, long milliseconds);
    }
}
