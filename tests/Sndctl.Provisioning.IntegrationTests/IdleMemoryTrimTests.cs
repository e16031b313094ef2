using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sndctl.Provisioning.Host;

namespace Sndctl.Provisioning.IntegrationTests;

public sealed class IdleMemoryTrimTests
{
    private const long MiB = 1 << 20;

    [Theory]
    // Quiet, 100 MiB committed beyond the heap, a trim long ago: trim.
    [InlineData(1 * MiB, 180 * MiB, 80 * MiB, 600, true)]
    // Still allocating (a load is running): wait.
    [InlineData(4 * MiB, 180 * MiB, 80 * MiB, 600, false)]
    // Quiet, but too little to give back for a full collection.
    [InlineData(0, 143 * MiB, 80 * MiB, 600, false)]
    [InlineData(0, 144 * MiB, 80 * MiB, 600, true)]
    // Quiet and worth it, but trimmed less than a minute ago.
    [InlineData(0, 180 * MiB, 80 * MiB, 59, false)]
    public void Trims_only_when_quiet_worth_it_and_not_too_often(long allocated, long committed, long heap, int secondsSinceLastTrim, bool trim)
        => Assert.Equal(trim, IdleMemoryTrim.ShouldTrim(allocated, committed, heap, TimeSpan.FromSeconds(secondsSinceLastTrim)));

    [Theory]
    [InlineData(null, true)]
    [InlineData("false", false)]
    public async Task Host_trims_when_idle_unless_turned_off(string? setting, bool running)
    {
        var factory = new ProvisioningHostFactory(settings: setting is null ? null : new Dictionary<string, string?> { ["Provisioning:Memory:TrimWhenIdle"] = setting });
        try
        {
            Assert.Equal(running, factory.Services.GetServices<IHostedService>().OfType<IdleMemoryTrim>().Any());
        }
        finally
        {
            await factory.DisposeAsync();
            factory.DeleteData();
        }
    }
}
