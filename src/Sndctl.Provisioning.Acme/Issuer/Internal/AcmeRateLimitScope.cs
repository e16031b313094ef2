namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>Whom a <c>rateLimited</c> answer concerns.</summary>
internal enum AcmeRateLimitScope
{
    /// <summary>The account or the registered domain: every device of the deployment (close the gate).</summary>
    Deployment,

    /// <summary>One set of identifiers (duplicate certificates, failed authorizations for one name): only that device.</summary>
    Identifier,
}

/// <summary>Which documented limit a <c>rateLimited</c> answer names.</summary>
internal enum AcmeRateLimit
{
    /// <summary>Not one this server knows (counted as deployment-wide).</summary>
    Unknown,

    /// <summary>New orders per account (Let's Encrypt: 300 per 3 hours).</summary>
    OrdersPerAccount,

    /// <summary>New certificates per registered domain (Let's Encrypt: 50 per 7 days).</summary>
    CertificatesPerRegisteredDomain,

    /// <summary>One of the limits about one set of identifiers.</summary>
    Identifier,
}

/// <summary>
/// Tells per-identifier rate limits from deployment-wide ones by what the CA documents, never by
/// guessing at message wording: RFC 8555 §6.7.1 subproblems that name identifiers, and the link to the
/// rate-limit documentation that Let's Encrypt (Boulder) puts in every rate-limit detail, whose anchor
/// names the limit. Anything not recognised counts as deployment-wide: the cautious reading when the
/// CA's patience is at stake. The table is in docs/acme.md.
/// </summary>
internal static class AcmeRateLimitClassifier
{
    private const string DocsMarker = "/docs/rate-limits/#";

    private static readonly HashSet<string> s_identifierLimits = new(StringComparer.OrdinalIgnoreCase)
    {
        "new-certificates-per-exact-set-of-identifiers",
        "new-certificates-per-exact-set-of-hostnames",
        "duplicate-certificate-limit",
        "authorization-failures-per-identifier-per-account",
        "authorization-failures-per-hostname-per-account",
        "failed-validation-limit",
        "consecutive-authorization-failures-per-identifier-per-account",
        "consecutive-authorization-failures-per-hostname-per-account",
    };

    public static AcmeRateLimitScope Classify(AcmeProblem problem)
        => LimitOf(problem) == AcmeRateLimit.Identifier ? AcmeRateLimitScope.Identifier : AcmeRateLimitScope.Deployment;

    /// <summary>The limit a <c>rateLimited</c> problem names: the one place its wording is read.</summary>
    public static AcmeRateLimit LimitOf(AcmeProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        if (problem.Subproblems is { Count: > 0 } subproblems && subproblems.All(s => s.Identifier is not null && s.ShortType == "rateLimited"))
        {
            return AcmeRateLimit.Identifier;
        }

        return (Anchor(problem.Detail) ?? Anchor(problem.Instance)) switch
        {
            null => AcmeRateLimit.Unknown,
            "new-orders-per-account" => AcmeRateLimit.OrdersPerAccount,
            "new-certificates-per-registered-domain" => AcmeRateLimit.CertificatesPerRegisteredDomain,
            var anchor when s_identifierLimits.Contains(anchor) => AcmeRateLimit.Identifier,
            _ => AcmeRateLimit.Unknown,
        };
    }

    /// <summary>The anchor of a rate-limit documentation link in <paramref name="text"/>, e.g. <c>new-orders-per-account</c>.</summary>
    internal static string? Anchor(string? text)
    {
        var at = text?.IndexOf(DocsMarker, StringComparison.OrdinalIgnoreCase) ?? -1;
        if (at < 0)
        {
            return null;
        }

        var start = at + DocsMarker.Length;
        var end = start;
        while (end < text!.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '-'))
        {
            end++;
        }

        return end > start ? text[start..end] : null;
    }
}
