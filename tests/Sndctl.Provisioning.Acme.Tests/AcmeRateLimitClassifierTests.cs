using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Sndctl.Provisioning.Acme.Internal;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Acme.Tests;

/// <summary>Per-identifier rate limits hold back one device; account- and domain-wide ones everyone.</summary>
public sealed class AcmeRateLimitClassifierTests
{
    [Theory]
    [InlineData("too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s, retry after 2026-12-02T00:00:00Z: see https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-identifiers", true)]
    [InlineData("too many failed authorizations (5) for \"a.example.com\" in the last 1h0m0s: see https://letsencrypt.org/docs/rate-limits/#authorization-failures-per-identifier-per-account", true)]
    [InlineData("too many certificates (50) already issued for \"example.com\" in the last 168h0m0s: see https://letsencrypt.org/docs/rate-limits/#new-certificates-per-registered-domain", false)]
    [InlineData("too many new orders (300) from this account in the last 3h0m0s: see https://letsencrypt.org/docs/rate-limits/#new-orders-per-account", false)]
    [InlineData("too many requests, slow down", false)] // unknown: the cautious reading
    [InlineData("duplicate certificate for this name (no documentation link)", false)] // words are not read
    public void Classify_by_the_documented_limit(string detail, bool identifierOnly)
        => Assert.Equal(identifierOnly ? AcmeRateLimitScope.Identifier : AcmeRateLimitScope.Deployment, AcmeRateLimitClassifier.Classify(new AcmeProblem { Type = AcmeErrorTypes.Prefix + "rateLimited", Detail = detail }));

    [Fact]
    public void Classify_subproblems_naming_identifiers_identifier()
    {
        var problem = new AcmeProblem
        {
            Type = AcmeErrorTypes.Prefix + "rateLimited",
            Detail = "rate limited",
            Subproblems = [new AcmeProblem { Type = AcmeErrorTypes.Prefix + "rateLimited", Identifier = AcmeIdentifier.Dns("a.example.com") }],
        };

        Assert.Equal(AcmeRateLimitScope.Identifier, AcmeRateLimitClassifier.Classify(problem));
    }

    [Fact]
    public void Hold_name_holds_back_that_name_only_until_retry_after()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var gate = new AcmeRateLimitGate(time, new Monitor(new AcmeIssuerOptions()));

        gate.HoldName("a.example.com", TimeSpan.FromHours(1));

        var held = Assert.Throws<CertificateAuthorityUnavailableException>(() => gate.ThrowIfClosed("a.example.com"));
        Assert.Equal(TimeSpan.FromHours(1), held.RetryAfter);
        gate.ThrowIfClosed("b.example.com"); // another device orders as usual
        Assert.Null(gate.ClosedUntil);
        time.Advance(TimeSpan.FromHours(1));
        gate.ThrowIfClosed("a.example.com");
    }

    private sealed class Monitor(AcmeIssuerOptions value) : IOptionsMonitor<AcmeIssuerOptions>
    {
        public AcmeIssuerOptions CurrentValue => value;

        public AcmeIssuerOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<AcmeIssuerOptions, string?> listener) => null;
    }
}
