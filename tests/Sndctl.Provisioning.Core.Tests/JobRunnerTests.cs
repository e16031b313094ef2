using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Sndctl.Provisioning.Core.Internal;
using Sndctl.Provisioning.Core.Tests.Fakes;

namespace Sndctl.Provisioning.Core.Tests;

/// <summary>Periodic jobs run on one instance at a time; the job moves when its leader dies.</summary>
public sealed class JobRunnerTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ServiceProvider _database;
    private readonly CountingJob _job = new();

    public JobRunnerTests()
    {
        var stores = new InMemoryStores(_time);
        _database = new ServiceCollection().AddMetrics().AddSingleton<IIssuanceLeaseStore>(stores).AddSingleton<IAuditEventStore>(stores).BuildServiceProvider();
    }

    public ValueTask DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task One_instance_leads_a_job_and_another_takes_it_over_when_the_leader_dies()
    {
        var first = Runner();
        var second = Runner();

        Assert.True(await first.RunOnceAsync(_job, default));
        Assert.False(await second.RunOnceAsync(_job, default));
        _time.Advance(_job.Interval);
        Assert.True(await first.RunOnceAsync(_job, default)); // the leader keeps the job
        Assert.False(await second.RunOnceAsync(_job, default));

        // The leader dies: its lease ends half an interval after its next run was due.
        _time.Advance(_job.Interval);
        Assert.False(await second.RunOnceAsync(_job, default));
        _time.Advance(_job.Interval / 2);
        Assert.True(await second.RunOnceAsync(_job, default));
        Assert.False(await first.RunOnceAsync(_job, default)); // back, and follows

        Assert.Equal(3, _job.Runs);
    }

    [Fact]
    public async Task A_failing_job_is_logged_and_runs_again_at_its_next_interval()
    {
        var runner = Runner();
        _job.Fail = true;
        Assert.False(await runner.RunOnceAsync(_job, default));
        _job.Fail = false;
        _time.Advance(_job.Interval);

        Assert.True(await runner.RunOnceAsync(_job, default));
        Assert.Equal(2, _job.Runs);
    }

    [Fact]
    public async Task The_audit_retention_job_deletes_events_older_than_the_retention()
    {
        var stores = (InMemoryStores)_database.GetRequiredService<IAuditEventStore>();
        await stores.AppendAsync(new AuditEvent { Actor = "a", Type = "old", Timestamp = _time.GetUtcNow().AddDays(-401) }, default);
        await stores.AppendAsync(new AuditEvent { Actor = "a", Type = "kept", Timestamp = _time.GetUtcNow().AddDays(-399) }, default);
        var job = new AuditRetentionJob(new Monitor(new DeviceProvisioningOptions()), _time, NullLogger<AuditRetentionJob>.Instance);

        Assert.True(await Runner(job).RunOnceAsync(job, default));

        Assert.Equal(["kept"], stores.Events.Select(e => e.Type));
    }

    private JobRunner Runner(IProvisioningJob? job = null) => new(
        [job ?? _job],
        _database.GetRequiredService<IServiceScopeFactory>(),
        new LeaseHolder(Options.Create(new DeviceProvisioningOptions())),
        _time,
        _time,
        NullLogger<JobRunner>.Instance,
        new ProvisioningMetrics(_database.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), _time),
        new Random(1));

    private sealed class CountingJob : IProvisioningJob
    {
        private int _runs;

        public string Name => "count";

        public TimeSpan Interval => TimeSpan.FromMinutes(10);

        public bool Fail { get; set; }

        public int Runs => _runs;

        public Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _runs);
            return Fail ? throw new InvalidOperationException("the database is down") : Task.CompletedTask;
        }
    }

    private sealed class Monitor(DeviceProvisioningOptions value) : IOptionsMonitor<DeviceProvisioningOptions>
    {
        public DeviceProvisioningOptions CurrentValue => value;

        public DeviceProvisioningOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<DeviceProvisioningOptions, string?> listener) => null;
    }
}
