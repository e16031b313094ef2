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
    private const string RegisteredDomainLimitAnchor = "new-certificates-per-registered-domain";
    private const string OrdersLimitAnchor = "new-orders-per-account";

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
    public async Task<IReadOnlyList<Permit>> ReserveAsync(string hostname, Uri? account, bool renewal, CancellationToken cancellationToken)
    {
        if (renewal)
        {
            return [];
        }

        var limits = _options.CurrentValue.RateLimits;
        var wanted = new List<Permit>(2);
        if (limits.CertificatesPerRegisteredDomain > 0)
        {
            wanted.Add(new Permit(DomainKey(RegisteredDomain(hostname)), limits.CertificatesPerRegisteredDomain, limits.RegisteredDomainWindow, "new certificates for " + RegisteredDomain(hostname)));
        }

        if (limits.NewOrdersPerAccount > 0 && account is not null)
        {
            wanted.Add(new Permit(OrdersKey(account), limits.NewOrdersPerAccount, limits.NewOrdersWindow, "new orders of the ACME account"));
        }

        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var store = scope.ServiceProvider.GetRequiredService<IRateLimitStore>();
            var taken = new List<Permit>(wanted.Count);
            foreach (var permit in wanted)
            {
                var now = _time.GetUtcNow();
                if (await store.TryAcquireAsync(permit.Key, permit.Limit, permit.Window, now, cancellationToken).ConfigureAwait(false) is { } wait)
                {
                    foreach (var back in taken)
                    {
                        await store.ReturnAsync(back.Key, back.Limit, back.Window, now, cancellationToken).ConfigureAwait(false);
                    }

                    Log.Spent(_logger, permit.What, permit.Limit, permit.Window.TotalHours, now + wait);
                    throw new CertificateAuthorityUnavailableException(
                        $"The CA's budget of {permit.Limit} {permit.What} per {Describe(permit.Window)} is spent; the next slot frees at {now + wait:yyyy-MM-dd HH:mm} UTC. (Raise Provisioning:Acme:RateLimits when the CA grants an override.)",
                        wait);
                }

                taken.Add(permit);
            }

            return taken;
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
    /// The CA said <c>rateLimited</c> for a deployment-wide limit: empties the bucket its documentation link
    /// names (the registered domain's when it names none) until <paramref name="retryAfter"/> from now.
    /// </summary>
    public async Task ReconcileAsync(string hostname, Uri? account, string? detail, TimeSpan retryAfter)
    {
        var limits = _options.CurrentValue.RateLimits;
        var until = _time.GetUtcNow() + retryAfter;
        var text = detail ?? string.Empty;
        (string Key, int Limit, TimeSpan Window) bucket;
        if (text.Contains(OrdersLimitAnchor, StringComparison.OrdinalIgnoreCase) && account is not null)
        {
            bucket = (OrdersKey(account), limits.NewOrdersPerAccount, limits.NewOrdersWindow);
        }
        else if (text.Contains(RegisteredDomainLimitAnchor, StringComparison.OrdinalIgnoreCase) || !text.Contains("rate-limits", StringComparison.OrdinalIgnoreCase))
        {
            // The registered domain's limit, or a refusal that names none (the likeliest for a fleet).
            bucket = (DomainKey(RegisteredDomain(hostname)), limits.CertificatesPerRegisteredDomain, limits.RegisteredDomainWindow);
        }
        else
        {
            return; // another documented limit, not one counted here: the rate-limit gate holds orders back
        }

        var (key, limit, window) = bucket;
        if (limit <= 0)
        {
            return;
        }

        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            await scope.ServiceProvider.GetRequiredService<IRateLimitStore>().ExhaustAsync(key, limit, window, until, CancellationToken.None).ConfigureAwait(false);
        }

        Log.Reconciled(_logger, key, until);
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

    internal sealed record Permit(string Key, int Limit, TimeSpan Window, string What);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The CA's budget of {Limit} {What} per {WindowHours:0.#} h is spent; no new order before {NextAt:O}.")]
        public static partial void Spent(ILogger logger, string what, int limit, double windowHours, DateTimeOffset nextAt);

        [LoggerMessage(2, LogLevel.Warning, "The CA refused with a rate limit earlier than counted; budget {Key} emptied until {Until:O}.")]
        public static partial void Reconciled(ILogger logger, string key, DateTimeOffset until);
    }
}

/// <summary>The report behind <c>GET /api/admin/acme/budget</c>: the budget of the base domain's registered domain.</summary>
internal sealed class AcmeBudgetReport(AcmeBudget budget, IOptions<DeviceProvisioningOptions> provisioning) : ICertificateAuthorityBudget
{
    public async Task<CertificateAuthorityBudgetReport> GetReportAsync(CancellationToken cancellationToken)
    {
        // Every device hostname is <deviceId>.<BaseDomain>: one registered domain for the whole fleet.
        var domains = await budget.ReportAsync(["device." + provisioning.Value.BaseDomain], cancellationToken).ConfigureAwait(false);
        return new CertificateAuthorityBudgetReport(domains, QueueDepth: 0, QueueDrainsAt: null);
    }
}
