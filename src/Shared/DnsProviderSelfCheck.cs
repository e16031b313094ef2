using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sndctl.Provisioning.Internal;

namespace Sndctl.Provisioning.Dns.Internal;

/// <summary>
/// Checks a DNS provider's credentials before the first device needs them: once at start-up
/// (logging what is wrong, never stopping the server) and as the <c>dns</c> health check, which
/// reports Degraded, not Unhealthy: certificates already issued are still served. The provider is asked at
/// most once per interval however often health is read (<see cref="HealthProbeCache"/>): a healthy answer is
/// kept 5 minutes, any other 30 seconds. Shared source: compiled into each DNS provider package.
/// </summary>
internal abstract partial class DnsProviderSelfCheck(IServiceScopeFactory scopes, TimeProvider time, ILogger logger) : IHostedService, IHealthCheck
{
    private readonly HealthProbeCache _cache = new(time, TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(30));

    /// <summary>The provider's name in log lines.</summary>
    protected abstract string ProviderName { get; }

    protected abstract bool VerifyOnStart { get; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!VerifyOnStart)
        {
            return;
        }

        var result = await _cache.GetAsync(RunAsync, cancellationToken).ConfigureAwait(false);
        if (result.Status == HealthStatus.Healthy)
        {
            Log.Verified(logger, ProviderName, result.Description);
        }
        else
        {
            Log.Failed(logger, ProviderName, result.Description);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => _cache.GetAsync(RunAsync, cancellationToken);

    /// <summary>Runs the provider's checks in a scope; returns what passed, or throws what failed.</summary>
    protected abstract Task<string> CheckAsync(IServiceProvider services, CancellationToken cancellationToken);

    /// <summary>Whether an exception is a finding (wrong credentials, API down) rather than a bug.</summary>
    protected abstract bool IsFinding(Exception exception);

    private async Task<HealthCheckResult> RunAsync(CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        try
        {
            return HealthCheckResult.Healthy(await CheckAsync(scope.ServiceProvider, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException || IsFinding(ex))
        {
            return HealthCheckResult.Degraded(ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "{Provider} DNS check passed: {Description}")]
        public static partial void Verified(ILogger logger, string provider, string? description);

        [LoggerMessage(2, LogLevel.Error, "{Provider} DNS check failed; devices cannot get ACME certificates until this is fixed: {Description}")]
        public static partial void Failed(ILogger logger, string provider, string? description);
    }
}
