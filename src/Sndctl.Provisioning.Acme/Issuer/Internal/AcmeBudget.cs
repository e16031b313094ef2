using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// The CA's budgets, counted in the database (<see cref="IRateLimitStore"/>, shared by every instance) before
/// the CA is asked: new certificates per registered domain (from the Public Suffix List) and new orders per
/// account. A permit is taken before a new order and given back when the order fails before it is finalized
/// (only what the CA actually issued counts). Renewals that carry ARI's <c>replaces</c> take none (exempt at
/// Let's Encrypt). When the CA answers <c>rateLimited</c> anyway, it is the authority: the bucket it names is
/// emptied until its Retry-After.
/// </summary>
internal sealed partial class AcmeBudget
{
    private readonly IServiceScopeFactory _scopes;
    private readonly IOptionsMonitor<AcmeIssuerOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<AcmeBudget> _logger;
    private readonly Lazy<PublicSuffixList> _suffixes;

    public AcmeBudget(IServiceScopeFactory scopes, IOptionsMonitor<AcmeIssuerOptions> options, TimeProvider time, ILogger<AcmeBudget> logger)
    {
        _scopes = scopes;
        _options = options;
        _time = time;
        _logger = logger;
        _suffixes = new Lazy<PublicSuffixList>(() => PublicSuffixList.Load(options.CurrentValue.RateLimits.PublicSuffixListFile));
    }

    /// <summary>The registered domain a name's certificates count against (the name itself when it is a public suffix).</summary>
    public string RegisteredDomain(string hostname) => _suffixes.Value.RegisteredDomain(hostname) ?? hostname.ToLowerInvariant();

    /// <summary>
    /// Takes the permits a new order needs: an order permit of the account, and a certificate permit of the
    /// name's registered domain unless the order renews with <c>replaces</c>. Throws
    /// <see cref="CertificateAuthorityUnavailableException"/> with the refill time when a budget is spent.
    /// </summary>
    public async Task<IReadOnlyList<Permit>> ReserveAsync(string hostname, Uri? account, bool renewal, bool serverMadeKey, CancellationToken cancellationToken)
    {
        if (renewal)
        {
            return [];
        }

        var limits = _options.CurrentValue.RateLimits;
        var wanted = new List<Permit>(2);
        if (limits.CertificatesPerRegisteredDomain > 0)
        {
            var domain = RegisteredDomain(hostname);
            wanted.Add(new Permit(DomainKey(domain), limits.CertificatesPerRegisteredDomain, limits.RegisteredDomainWindow, "new certificates for " + domain, Queue: domain));
        }

        if (limits.NewOrdersPerAccount > 0 && account is not null)
        {
            wanted.Add(new Permit(OrdersKey(account), limits.NewOrdersPerAccount, limits.NewOrdersWindow, "new orders of the ACME account", Queue: null));
        }

        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var store = scope.ServiceProvider.GetRequiredService<IRateLimitStore>();
            var queue = scope.ServiceProvider.GetService<IIssuanceQueueStore>();
            var taken = new List<Permit>(wanted.Count);
            foreach (var permit in wanted)
            {
                var now = _time.GetUtcNow();
                var queued = permit.Queue is not null && queue is not null;
                var ahead = 0;
                if (queued)
                {
                    // First come, first served: a slot is this device's only when fewer devices wait ahead of it than slots are free.
                    var (used, _) = await store.PeekAsync(permit.Key, permit.Limit, permit.Window, now, cancellationToken).ConfigureAwait(false);
                    ahead = await queue!.AheadAsync(hostname, permit.Queue!, now, cancellationToken).ConfigureAwait(false);
                    if (ahead >= permit.Limit - used)
                    {
                        await GiveBackAsync(store, taken, now, cancellationToken).ConfigureAwait(false);
                        await QueueAsync(store, queue, hostname, serverMadeKey, permit, ahead + 1, now, cancellationToken).ConfigureAwait(false);
                    }
                }

                if (await store.TryAcquireAsync(permit.Key, permit.Limit, permit.Window, now, cancellationToken).ConfigureAwait(false) is { } wait)
                {
                    await GiveBackAsync(store, taken, now, cancellationToken).ConfigureAwait(false);
                    if (queued)
                    {
                        await QueueAsync(store, queue!, hostname, serverMadeKey, permit, ahead + 1, now, cancellationToken).ConfigureAwait(false);
                    }

                    Log.Spent(_logger, permit.What, permit.Limit, permit.Window.TotalHours, now + wait);
                    throw new CertificateAuthorityUnavailableException(
                        $"The CA's budget of {permit.Limit} {permit.What} per {Describe(permit.Window)} is spent; the next slot frees at {now + wait:yyyy-MM-dd HH:mm} UTC. (Raise Provisioning:Acme:RateLimits when the CA grants an override.)",
                        wait);
                }

                taken.Add(permit);
                if (queued)
                {
                    await queue!.RemoveAsync(hostname, cancellationToken).ConfigureAwait(false);
                }
            }

            return taken;
        }
    }

    /// <summary>
    /// Queues <paramref name="hostname"/> (keeping the place it has) and throws the answer for the device: its
    /// position and when the refill schedule gives it a slot, which is also when it should ask again.
    /// </summary>
    private static async Task QueueAsync(IRateLimitStore store, IIssuanceQueueStore queue, string hostname, bool serverMadeKey, Permit permit, int expectedPosition, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var estimatedAt = await EstimateAsync(store, permit, expectedPosition, now, cancellationToken).ConfigureAwait(false);
        var retryAfter = estimatedAt - now < MinimumRetry ? MinimumRetry : estimatedAt - now;

        // Expected back at its turn; a device that does not come back within the grace after that loses its place.
        // One whose key the server does not hold holds a slot only from its turn to the end of the claim window.
        // (The position is the store's: another instance may have queued a device in the same instant.)
        var position = await queue.EnterAsync(hostname, permit.Queue!, serverMadeKey, now, estimatedAt, estimatedAt + QueueClaim, now + retryAfter + QueueGrace, cancellationToken).ConfigureAwait(false);
        if (position != expectedPosition)
        {
            // Devices queued in the same instant (other requests, other instances) went ahead of the position read
            // before: the ETA is the store's position's, and the place is kept at least until then.
            estimatedAt = await EstimateAsync(store, permit, position, now, cancellationToken).ConfigureAwait(false);
            retryAfter = estimatedAt - now < MinimumRetry ? MinimumRetry : estimatedAt - now;
            await queue.EnterAsync(hostname, permit.Queue!, serverMadeKey, now, estimatedAt, estimatedAt + QueueClaim, now + retryAfter + QueueGrace, cancellationToken).ConfigureAwait(false);
        }

        throw new CertificateIssuanceQueuedException(
            $"The CA's budget of {permit.Limit} {permit.What} per {Describe(permit.Window)} is spent: this device is number {position} in the queue, expected to get its certificate at {estimatedAt:yyyy-MM-dd HH:mm} UTC. Call again then; asking earlier keeps the place.",
            position,
            estimatedAt,
            retryAfter);
    }

    /// <summary>When the budget has a slot for the <paramref name="position"/>-th device in line (one refills every window / limit).</summary>
    private static async Task<DateTimeOffset> EstimateAsync(IRateLimitStore store, Permit permit, int position, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (used, nextAt) = await store.PeekAsync(permit.Key, permit.Limit, permit.Window, now, cancellationToken).ConfigureAwait(false);
        var interval = permit.Window / permit.Limit;

        // The cell's theoretical arrival time: exact when the bucket is full, an upper bound otherwise.
        var full = used >= permit.Limit ? nextAt + (permit.Limit - 1) * interval : now + used * interval;
        var at = full + (position - permit.Limit) * interval;
        return at < now ? now : at;
    }

    private static async Task GiveBackAsync(IRateLimitStore store, List<Permit> taken, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var back in taken)
        {
            await store.ReturnAsync(back.Key, back.Limit, back.Window, now, cancellationToken).ConfigureAwait(false);
        }

        taken.Clear();
    }

    /// <summary>Takes <paramref name="hostname"/> out of the queue: a fallback CA issued its certificate.</summary>
    public async Task LeaveQueueAsync(string hostname)
    {
        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            if (scope.ServiceProvider.GetService<IIssuanceQueueStore>() is { } queue)
            {
                await queue.RemoveAsync(hostname, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Gives back permits of an order that failed before it was finalized.</summary>
    public async Task ReturnAsync(IReadOnlyList<Permit> permits)
    {
        if (permits.Count == 0)
        {
            return;
        }

        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var store = scope.ServiceProvider.GetRequiredService<IRateLimitStore>();
            foreach (var permit in permits)
            {
                await store.ReturnAsync(permit.Key, permit.Limit, permit.Window, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Whether a <c>rateLimited</c> answer is about a budget counted here (its documentation link names the
    /// registered domain's certificates or the account's orders, and that budget is on): the budget then
    /// takes it over (<see cref="ReconcileAsync"/>) instead of the rate-limit gate stopping every order.
    /// </summary>
    public bool Counts(AcmeProblem problem, Uri? account) => Bucket(problem, account) is not null;

    /// <summary>
    /// The CA said <c>rateLimited</c> for a budget counted here although the count had room: the CA is the
    /// authority, so that bucket is emptied until <paramref name="retryAfter"/> from now (all instances).
    /// </summary>
    public async Task ReconcileAsync(AcmeProblem problem, Uri? account, string hostname, TimeSpan retryAfter)
    {
        if (Bucket(problem, account) is not { } bucket)
        {
            return;
        }

        var until = _time.GetUtcNow() + retryAfter;
        var (key, limit, window) = bucket.Orders
            ? (OrdersKey(account!), bucket.Limits.NewOrdersPerAccount, bucket.Limits.NewOrdersWindow)
            : (DomainKey(RegisteredDomain(hostname)), bucket.Limits.CertificatesPerRegisteredDomain, bucket.Limits.RegisteredDomainWindow);
        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            await scope.ServiceProvider.GetRequiredService<IRateLimitStore>().ExhaustAsync(key, limit, window, until, CancellationToken.None).ConfigureAwait(false);
        }

        Log.Reconciled(_logger, key, until);
    }

    private (bool Orders, AcmeRateLimitOptions Limits)? Bucket(AcmeProblem problem, Uri? account)
    {
        var limits = _options.CurrentValue.RateLimits;
        return AcmeRateLimitClassifier.LimitOf(problem) switch
        {
            AcmeRateLimit.OrdersPerAccount when account is not null && limits.NewOrdersPerAccount > 0 => (true, limits),
            AcmeRateLimit.CertificatesPerRegisteredDomain when limits.CertificatesPerRegisteredDomain > 0 => (false, limits),
            _ => null,
        };
    }

    /// <summary>The queue of a registered domain: its depth, and when its last device is expected to have a slot.</summary>
    public async Task<(int Depth, DateTimeOffset? DrainsAt)> QueueAsync(string hostname, CancellationToken cancellationToken)
    {
        var limits = _options.CurrentValue.RateLimits;
        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            if (limits.CertificatesPerRegisteredDomain <= 0 || scope.ServiceProvider.GetService<IIssuanceQueueStore>() is not { } queue)
            {
                return (0, null);
            }

            var now = _time.GetUtcNow();
            var domain = RegisteredDomain(hostname);
            var depth = await queue.CountAsync(domain, now, cancellationToken).ConfigureAwait(false);
            if (depth == 0)
            {
                return (0, null);
            }

            var permit = new Permit(DomainKey(domain), limits.CertificatesPerRegisteredDomain, limits.RegisteredDomainWindow, string.Empty, Queue: domain);
            return (depth, await EstimateAsync(scope.ServiceProvider.GetRequiredService<IRateLimitStore>(), permit, depth, now, cancellationToken).ConfigureAwait(false));
        }
    }

    /// <summary>Used and free slots of the registered domains of <paramref name="hostnames"/>, for the budget report.</summary>
    public async Task<IReadOnlyList<RegisteredDomainBudget>> ReportAsync(IEnumerable<string> hostnames, CancellationToken cancellationToken)
    {
        var limits = _options.CurrentValue.RateLimits;
        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var store = scope.ServiceProvider.GetRequiredService<IRateLimitStore>();
            var report = new List<RegisteredDomainBudget>();
            foreach (var domain in hostnames.Select(RegisteredDomain).Distinct(StringComparer.Ordinal))
            {
                var now = _time.GetUtcNow();
                var (used, nextAt) = limits.CertificatesPerRegisteredDomain > 0
                    ? await store.PeekAsync(DomainKey(domain), limits.CertificatesPerRegisteredDomain, limits.RegisteredDomainWindow, now, cancellationToken).ConfigureAwait(false)
                    : (0, now);
                report.Add(new RegisteredDomainBudget(domain, limits.CertificatesPerRegisteredDomain, used, limits.RegisteredDomainWindow, nextAt));
            }

            return report;
        }
    }

    // The limit and window are part of the key: the store keeps one timestamp per key whose meaning depends on
    // them, so an override (a raised limit) starts a fresh count rather than misreading the old one. A count
    // restarted too low is corrected by the CA's own answer (ReconcileAsync).
    private string DomainKey(string registeredDomain)
    {
        var limits = _options.CurrentValue.RateLimits;
        var domain = registeredDomain.Length <= 64 ? registeredDomain : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(registeredDomain)))[..32];
        return $"acme:certificates:{domain}:{limits.CertificatesPerRegisteredDomain}/{(long)limits.RegisteredDomainWindow.TotalSeconds}";
    }

    private string OrdersKey(Uri account)
    {
        var limits = _options.CurrentValue.RateLimits;
        var id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(account.AbsoluteUri)))[..32];
        return $"acme:orders:{id}:{limits.NewOrdersPerAccount}/{(long)limits.NewOrdersWindow.TotalSeconds}";
    }

    private static string Describe(TimeSpan window) => window.TotalDays >= 1 && window.TotalDays == Math.Floor(window.TotalDays) ? $"{window.TotalDays:0} days" : $"{window.TotalHours:0.#} hours";

    /// <summary>One budget slot: the counter's key, the limit and window, what it counts (for messages), and the queue that waits for it (none for orders).</summary>
    internal sealed record Permit(string Key, int Limit, TimeSpan Window, string What, string? Queue)
    {
        /// <summary>Whether it counts new orders (spent once the order exists) rather than certificates (spent once issued).</summary>
        public bool CountsOrders => Queue is null;
    }

    /// <summary>How long past its expected return a queued device keeps its place.</summary>
    private static readonly TimeSpan QueueGrace = TimeSpan.FromDays(1);

    /// <summary>
    /// How long past its turn a queued device whose key the server does not hold (it sent a CSR) keeps the slot
    /// for itself; then the background drain gives the slot to the next device it can serve, and this one (still
    /// first in line) gets the next free slot when it asks. Devices that never come back cannot block the queue.
    /// </summary>
    internal static readonly TimeSpan QueueClaim = TimeSpan.FromMinutes(15);

    private static readonly TimeSpan MinimumRetry = TimeSpan.FromMinutes(1);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The CA's budget of {Limit} {What} per {WindowHours:0.#} h is spent; no new order before {NextAt:O}.")]
        public static partial void Spent(ILogger logger, string what, int limit, double windowHours, DateTimeOffset nextAt);

        [LoggerMessage(2, LogLevel.Warning, "The CA refused with a rate limit earlier than counted; budget {Key} emptied until {Until:O}.")]
        public static partial void Reconciled(ILogger logger, string key, DateTimeOffset until);
    }
}

/// <summary>The report behind <c>GET /api/admin/acme/budget</c>: the budget of the base domain's registered domain.</summary>
internal sealed class AcmeBudgetReport(AcmeBudget budget, IOptions<DeviceProvisioningOptions> provisioning, IServiceScopeFactory scopes, TimeProvider time) : ICertificateAuthorityBudget
{
    public async Task<CertificateAuthorityBudgetReport> GetReportAsync(CancellationToken cancellationToken)
    {
        // Every device hostname is <deviceId>.<BaseDomain>: one registered domain for the whole fleet.
        var hostname = "device." + provisioning.Value.BaseDomain;
        var domains = await budget.ReportAsync([hostname], cancellationToken).ConfigureAwait(false);
        var (depth, drainsAt) = await budget.QueueAsync(hostname, cancellationToken).ConfigureAwait(false);
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var renewals = await scope.ServiceProvider.GetRequiredService<ICertificateStore>().CountCurrentRenewalDueAsync(time.GetUtcNow().AddDays(7), cancellationToken).ConfigureAwait(false);
            return new CertificateAuthorityBudgetReport(domains, depth, drainsAt, renewals);
        }
    }
}

/// <summary>Every minute, on one instance, reads the CA budget for the metrics (<c>sndctl.acme.budget.*</c>, <c>sndctl.acme.queue.*</c>).</summary>
internal sealed class AcmeBudgetStatisticsJob(AcmeMetrics metrics) : IProvisioningJob
{
    public string Name => "acme-budget";

    public TimeSpan Interval => TimeSpan.FromMinutes(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
        => metrics.BudgetReport(await services.GetRequiredService<ICertificateAuthorityBudget>().GetReportAsync(cancellationToken).ConfigureAwait(false));
}
