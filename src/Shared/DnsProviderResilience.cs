using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly;

namespace Sndctl.Provisioning.Dns.Internal;

/// <summary>
/// The one outbound resilience handler of a DNS provider's HTTP client (Microsoft.Extensions.Http.Resilience):
/// retries of throttled and failing calls (429, 5xx, transport errors, and what the provider's API says is
/// throttling), with exponential backoff and jitter honouring <c>Retry-After</c> (at most 30 s a wait), then a
/// timeout per attempt. The provider's code makes one call; nothing else retries, so an embedder who replaces
/// it (<see cref="HandlerName"/>, docs/embedding.md) does not get retries on retries. Shared source.
/// </summary>
internal static partial class DnsProviderResilience
{
    /// <summary>The handler's name (<c>RemoveAllResilienceHandlers()</c> then <c>AddResilienceHandler</c> to replace it).</summary>
    public const string HandlerName = "sndctl-dns";

    public static IHttpClientBuilder AddProviderResilience(
        this IHttpClientBuilder http,
        string provider,
        Func<IServiceProvider, (int MaxRetries, TimeSpan BaseDelay, TimeSpan AttemptTimeout)> settings,
        Func<HttpResponseMessage, ValueTask<string?>>? errorCode = null,
        IReadOnlySet<string>? throttlingCodes = null)
    {
        http.AddResilienceHandler(HandlerName, (pipeline, context) =>
        {
            var (maxRetries, baseDelay, attemptTimeout) = settings(context.ServiceProvider);
            var logger = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Sndctl.Provisioning.Dns." + provider);
            if (maxRetries > 0)
            {
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = maxRetries,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = baseDelay,
                    MaxDelay = TimeSpan.FromSeconds(30),
                    ShouldRetryAfterHeader = true,
                    ShouldHandle = async args => args.Outcome switch
                    {
                        { Exception: HttpRequestException or Polly.Timeout.TimeoutRejectedException } => true,
                        { Result: { } response } => response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500
                            || (response.StatusCode == HttpStatusCode.BadRequest && errorCode is not null && throttlingCodes is not null
                                && await errorCode(response).ConfigureAwait(false) is { } code && throttlingCodes.Contains(code)),
                        _ => false,
                    },
                    OnRetry = async args =>
                    {
                        var code = args.Outcome.Result is { } response && errorCode is not null ? await errorCode(response).ConfigureAwait(false) : null;
                        Log.Retrying(logger, provider, args.Outcome.Result is { } r ? ((int)r.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) + (code is null ? string.Empty : " " + code) : args.Outcome.Exception?.GetType().Name ?? "?", args.RetryDelay.TotalSeconds, args.AttemptNumber + 1);
                    },
                });
            }

            pipeline.AddTimeout(attemptTimeout);
        });
        return http;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Provider} answered {Status}; retrying in {Seconds:0.0} s (retry {Attempt}).")]
        public static partial void Retrying(ILogger logger, string provider, string status, double seconds, int attempt);
    }
}
