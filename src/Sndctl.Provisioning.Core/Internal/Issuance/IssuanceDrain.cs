using Microsoft.Extensions.Hosting;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// On shutdown (SIGTERM), lets the issuances under way finish within the host's shutdown timeout;
/// the web server has stopped taking requests by then (it stops first) and readiness answers 503.
/// What has not finished when the timeout ends is cancelled: its DNS records are removed and its
/// lease is handed back, so another instance takes the device over at once.
/// </summary>
internal sealed class IssuanceDrain(IssuanceCoordinator coordinator) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => coordinator.DrainAsync(cancellationToken);
}
