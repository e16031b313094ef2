using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Dns.Cloudflare.Internal;

/// <summary>
/// Checks the token before the first device needs it: <c>/user/tokens/verify</c>, then a read of the
/// zone (configured, or the one holding the base domain) and of its DNS records. Runs once at
/// start-up (logging what is wrong, never stopping the server) and serves as the <c>dns</c> health check.
/// </summary>
internal sealed partial class CloudflareSelfCheck(
    IServiceScopeFactory scopes,
    IOptionsMonitor<CloudflareDnsOptions> options,
    IOptionsMonitor<DeviceProvisioningOptions> provisioning,
    ILogger<CloudflareSelfCheck> logger) : IHostedService, IHealthCheck
{
    private HealthCheckResult? _last;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.CurrentValue.VerifyOnStart)
        {
            return;
        }

        var result = await RunAsync(cancellationToken).ConfigureAwait(false);
        if (result.Status == HealthStatus.Healthy)
        {
            Log.Verified(logger, result.Description);
        }
        else
        {
            Log.Failed(logger, result.Description);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => _last is { Status: HealthStatus.Healthy } healthy ? healthy : await RunAsync(cancellationToken).ConfigureAwait(false);

    private async Task<HealthCheckResult> RunAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var api = scope.ServiceProvider.GetRequiredService<CloudflareApi>();
        try
        {
            await api.VerifyTokenAsync(cancellationToken).ConfigureAwait(false);
            var zoneId = await api.FindZoneIdAsync("_acme-challenge." + provisioning.CurrentValue.BaseDomain, cancellationToken).ConfigureAwait(false);
            var zoneName = await api.GetZoneNameAsync(zoneId, cancellationToken).ConfigureAwait(false);
            await foreach (var _ in api.PagesAsync($"zones/{Uri.EscapeDataString(zoneId)}/dns_records?type=TXT&name={Uri.EscapeDataString("_acme-challenge." + provisioning.CurrentValue.BaseDomain)}", "reading DNS records (needs DNS:Read or DNS:Edit)", cancellationToken).ConfigureAwait(false))
            {
                break;
            }

            _last = HealthCheckResult.Healthy($"Cloudflare token active; zone {zoneName} ({zoneId}) readable.");
        }
        catch (Exception ex) when (ex is CloudflareApiException or HttpRequestException or TimeoutException)
        {
            // Degraded, not Unhealthy: certificates already issued are still served.
            _last = HealthCheckResult.Degraded(ex.Message);
        }

        return _last.Value;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Cloudflare DNS check passed: {Description}")]
        public static partial void Verified(ILogger logger, string? description);

        [LoggerMessage(2, LogLevel.Error, "Cloudflare DNS check failed; devices cannot get ACME certificates until this is fixed: {Description}")]
        public static partial void Failed(ILogger logger, string? description);
    }
}
