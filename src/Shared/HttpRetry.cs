namespace Sndctl.Provisioning.Dns.Internal;

/// <summary>How long to wait before retrying a throttled or failed API call. Shared source.</summary>
internal static class HttpRetry
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The server's <c>Retry-After</c> (seconds or a date), else exponential backoff from <paramref name="baseDelay"/> with
    /// up to 25 % jitter, so instances throttled together do not retry together; at most 30 s.
    /// </summary>
    public static TimeSpan Delay(HttpResponseMessage response, int attempt, TimeSpan baseDelay, TimeProvider time, Random random)
    {
        if (response.Headers.RetryAfter?.Delta is { } delta)
        {
            return Clamp(delta);
        }

        if (response.Headers.RetryAfter?.Date is { } date)
        {
            return Clamp(date - time.GetUtcNow());
        }

        var backoff = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 10));
        return Clamp(TimeSpan.FromMilliseconds(backoff * (1 + (random.NextDouble() * 0.25))));
    }

    private static TimeSpan Clamp(TimeSpan wait) => wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxWait ? MaxWait : wait;
}
