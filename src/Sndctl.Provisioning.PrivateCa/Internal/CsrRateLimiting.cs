using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// At most <see cref="PrivateCaOptions.PostsPerMinute"/> CSR submissions per client network (an IPv4 address or an IPv6 /64) in any
/// 60 seconds (a sliding log, so no burst at a window boundary). The address is the connection's,
/// which the forwarded-headers middleware rewrites only for configured proxies. Refused requests get
/// 429 problem+json with Retry-After and never reach the endpoint, so nothing is stored.
/// </summary>
internal sealed class CsrRateLimitPolicy(IOptionsMonitor<PrivateCaOptions> options, TimeProvider time) : IRateLimiterPolicy<string>
{
    public const string Name = "Sndctl.Provisioning.PrivateCa.CsrSubmissions";

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => static async (context, _) =>
    {
        var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await TypedResults.Problem(
            detail: $"Too many CSR submissions from this address: at most one per minute is accepted (the limit is per client address); try again in {seconds} s. The request was not stored. Checking a request's status is not limited.",
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many requests.",
            type: PrivateCaProblems.TypeBase + "too-many-requests").ExecuteAsync(context.HttpContext);
    };

    public RateLimitPartition<string> GetPartition(HttpContext httpContext)
    {
        // Per IPv4 address or IPv6 /64: one host usually holds a whole /64.
        var client = httpContext.Connection.RemoteIpAddress is { } address ? Sndctl.Provisioning.Core.ClientNetwork.KeyOf(address) : "unknown";
        var perMinute = options.CurrentValue.PostsPerMinute;
        return perMinute <= 0
            ? RateLimitPartition.GetNoLimiter(client)
            : RateLimitPartition.Get(client, _ => new SlidingLogRateLimiter(perMinute, TimeSpan.FromMinutes(1), time));
    }
}

/// <summary>Permits at most <c>limit</c> acquisitions in any <c>window</c>: the times of the last ones are kept.</summary>
internal sealed class SlidingLogRateLimiter(int limit, TimeSpan window, TimeProvider time) : RateLimiter
{
    private readonly Queue<DateTimeOffset> _permits = new();
    private readonly Lock _lock = new();
    private DateTimeOffset _lastActivity = time.GetUtcNow();

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                Trim(time.GetUtcNow());
                return _permits.Count == 0 ? time.GetUtcNow() - _lastActivity : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
        {
            return new RateLimiterStatistics { CurrentAvailablePermits = limit - _permits.Count };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(permitCount, 1);
        var now = time.GetUtcNow();
        lock (_lock)
        {
            Trim(now);
            _lastActivity = now;
            if (_permits.Count < limit)
            {
                _permits.Enqueue(now);
                return Lease.Granted;
            }

            return new Lease(false, _permits.Peek() + window - now);
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
        => ValueTask.FromResult(AttemptAcquireCore(permitCount)); // No queueing: refused at once.

    private void Trim(DateTimeOffset now)
    {
        while (_permits.Count > 0 && _permits.Peek() + window <= now)
        {
            _permits.Dequeue();
        }
    }

    private sealed class Lease(bool acquired, TimeSpan retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, TimeSpan.Zero);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => acquired ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = !acquired && metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}
