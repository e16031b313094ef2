using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.PrivateCa.Internal;

namespace Sndctl.Provisioning.PrivateCa.Tests;

/// <summary>What outsiders can grow is purged: denied CSR requests after their retention, idle rate-limit counters.</summary>
public sealed class CsrRetentionJobTests
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task One_run_purges_denied_requests_past_their_retention_and_idle_rate_limit_counters()
    {
        var requests = new Mock<ICsrRequestStore>();
        requests.Setup(r => r.PurgeDeniedAsync(It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync(3);
        var counters = new Mock<IRateLimitStore>();
        counters.Setup(r => r.PurgeAsync(It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync(7);
        await using var services = new ServiceCollection().AddScoped(_ => requests.Object).AddScoped(_ => counters.Object).BuildServiceProvider();

        var purged = await Job().RunOnceAsync(services, TestContext.Current.CancellationToken);

        Assert.Equal(3, purged);
        requests.Verify(r => r.PurgeDeniedAsync(s_now - TimeSpan.FromDays(7), It.IsAny<CancellationToken>()), Times.Once);
        counters.Verify(r => r.PurgeAsync(s_now, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_failed_run_is_logged_and_the_job_carries_on()
    {
        var requests = new Mock<ICsrRequestStore>();
        requests.Setup(r => r.PurgeDeniedAsync(It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ThrowsAsync(new InvalidOperationException("database down"));
        await using var services = new ServiceCollection().AddScoped(_ => requests.Object).BuildServiceProvider();

        Assert.Equal(0, await Job().RunOnceAsync(services, TestContext.Current.CancellationToken));
    }

    private static CsrRetentionJob Job() => new(
        new StaticOptions(new PrivateCaOptions()),
        new Microsoft.Extensions.Time.Testing.FakeTimeProvider(s_now),
        NullLogger<CsrRetentionJob>.Instance);

    private sealed class StaticOptions(PrivateCaOptions value) : IOptionsMonitor<PrivateCaOptions>
    {
        public PrivateCaOptions CurrentValue => value;

        public PrivateCaOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<PrivateCaOptions, string?> listener) => null;
    }
}
