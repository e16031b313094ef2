using System.Text.Json.Serialization;

namespace Sndctl.Provisioning.Acme;

/// <summary>The ACME directory (RFC 8555 §7.1.1, RFC 9773 §4): where every resource lives.</summary>
public sealed record AcmeDirectory
{
    /// <summary>Where fresh nonces come from.</summary>
    public required Uri NewNonce { get; init; }

    /// <summary>Creates or finds accounts.</summary>
    public required Uri NewAccount { get; init; }

    /// <summary>Creates orders.</summary>
    public required Uri NewOrder { get; init; }

    /// <summary>Revokes certificates.</summary>
    public Uri? RevokeCert { get; init; }

    /// <summary>Rolls an account over to a new key.</summary>
    public Uri? KeyChange { get; init; }

    /// <summary>ACME Renewal Information (RFC 9773); absent when the CA does not offer it.</summary>
    public Uri? RenewalInfo { get; init; }

    /// <summary>Terms, website, EAB requirement and certificate profiles.</summary>
    public AcmeDirectoryMeta? Meta { get; init; }
}

/// <summary>The directory's <c>meta</c> object.</summary>
public sealed record AcmeDirectoryMeta
{
    /// <summary>The terms of service the account must agree to.</summary>
    public Uri? TermsOfService { get; init; }

    /// <summary>The CA's website.</summary>
    public Uri? Website { get; init; }

    /// <summary>CAA issuer domain names that identify this CA.</summary>
    public IReadOnlyList<string>? CaaIdentities { get; init; }

    /// <summary>New accounts must carry an External Account Binding.</summary>
    public bool ExternalAccountRequired { get; init; }

    /// <summary>Certificate profiles offered, name to description (draft-aaron-acme-profiles).</summary>
    public IReadOnlyDictionary<string, string>? Profiles { get; init; }
}

/// <summary>An ACME account (RFC 8555 §7.1.2).</summary>
public sealed record AcmeAccount
{
    /// <summary>The account URL (the JWS <c>kid</c>); from the <c>Location</c> header.</summary>
    [JsonIgnore]
    public Uri Location { get; init; } = null!;

    /// <summary><c>valid</c>, <c>deactivated</c> or <c>revoked</c>.</summary>
    public string? Status { get; init; }

    /// <summary>Contact URLs such as <c>mailto:ops@example.com</c>.</summary>
    public IReadOnlyList<string>? Contact { get; init; }

    /// <summary>The account's orders list URL.</summary>
    public Uri? Orders { get; init; }

    /// <summary>True when the CA answered 201 (a new account), false when it found an existing one.</summary>
    [JsonIgnore]
    public bool Created { get; init; }
}

/// <summary>An identifier in an order or authorization.</summary>
/// <param name="Type"><c>dns</c> or <c>ip</c>.</param>
/// <param name="Value">The name or address.</param>
public sealed record AcmeIdentifier(string Type, string Value)
{
    /// <summary>A DNS name identifier.</summary>
    public static AcmeIdentifier Dns(string name) => new("dns", name);
}

/// <summary>What to ask for in a new order (RFC 8555 §7.4, RFC 9773 §5).</summary>
public sealed record AcmeOrderRequest
{
    /// <summary>The names the certificate will carry.</summary>
    public required IReadOnlyList<AcmeIdentifier> Identifiers { get; init; }

    /// <summary>Requested notBefore, if the CA supports it.</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>Requested notAfter, if the CA supports it.</summary>
    public DateTimeOffset? NotAfter { get; init; }

    /// <summary>The ARI certificate identifier of the certificate this order renews (<see cref="AcmeCertificateIdentifier"/>).</summary>
    public string? Replaces { get; init; }

    /// <summary>A certificate profile the directory offers.</summary>
    public string? Profile { get; init; }
}

/// <summary>An ACME order (RFC 8555 §7.1.3).</summary>
public sealed record AcmeOrder
{
    /// <summary>The order URL, from the <c>Location</c> header (kept across polls).</summary>
    [JsonIgnore]
    public Uri Location { get; init; } = null!;

    /// <summary><c>pending</c>, <c>ready</c>, <c>processing</c>, <c>valid</c> or <c>invalid</c>.</summary>
    public required string Status { get; init; }

    /// <summary>When the order expires.</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>The identifiers ordered.</summary>
    public IReadOnlyList<AcmeIdentifier> Identifiers { get; init; } = [];

    /// <summary>One authorization URL per identifier.</summary>
    public IReadOnlyList<Uri> Authorizations { get; init; } = [];

    /// <summary>Where to send the CSR.</summary>
    public Uri? Finalize { get; init; }

    /// <summary>The certificate URL once the order is valid.</summary>
    public Uri? Certificate { get; init; }

    /// <summary>Why the order is invalid.</summary>
    public AcmeProblem? Error { get; init; }

    /// <summary>The certificate this order replaces (RFC 9773), as echoed by the CA.</summary>
    public string? Replaces { get; init; }

    /// <summary>The profile, as echoed by the CA.</summary>
    public string? Profile { get; init; }
}

/// <summary>An ACME authorization (RFC 8555 §7.1.4).</summary>
public sealed record AcmeAuthorization
{
    /// <summary>The authorization URL.</summary>
    [JsonIgnore]
    public Uri Location { get; init; } = null!;

    /// <summary>The identifier being authorized.</summary>
    public required AcmeIdentifier Identifier { get; init; }

    /// <summary><c>pending</c>, <c>valid</c>, <c>invalid</c>, <c>deactivated</c>, <c>expired</c> or <c>revoked</c>.</summary>
    public required string Status { get; init; }

    /// <summary>When the authorization expires.</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>Ways to prove control, in the CA's order (which may be random).</summary>
    public IReadOnlyList<AcmeChallenge> Challenges { get; init; } = [];

    /// <summary>True for a wildcard authorization.</summary>
    public bool Wildcard { get; init; }
}

/// <summary>An ACME challenge (RFC 8555 §7.1.5, §8).</summary>
public sealed record AcmeChallenge
{
    /// <summary><c>dns-01</c>, <c>http-01</c>, <c>tls-alpn-01</c>, ...</summary>
    public required string Type { get; init; }

    /// <summary>Where to respond.</summary>
    public required Uri Url { get; init; }

    /// <summary><c>pending</c>, <c>processing</c>, <c>valid</c> or <c>invalid</c>.</summary>
    public required string Status { get; init; }

    /// <summary>The token the key authorization is built from.</summary>
    public string? Token { get; init; }

    /// <summary>When validation succeeded.</summary>
    public DateTimeOffset? Validated { get; init; }

    /// <summary>Why validation failed.</summary>
    public AcmeProblem? Error { get; init; }
}

/// <summary>An RFC 7807 problem document as ACME uses it (RFC 8555 §6.7).</summary>
public sealed record AcmeProblem
{
    /// <summary>The problem type, for example <c>urn:ietf:params:acme:error:rateLimited</c>.</summary>
    public string? Type { get; init; }

    /// <summary>A human-readable explanation.</summary>
    public string? Detail { get; init; }

    /// <summary>The HTTP status.</summary>
    public int? Status { get; init; }

    /// <summary>A URL about this occurrence (Let's Encrypt links rate-limit documentation here).</summary>
    public string? Instance { get; init; }

    /// <summary>Problems with individual identifiers (RFC 8555 §6.7.1).</summary>
    public IReadOnlyList<AcmeProblem>? Subproblems { get; init; }

    /// <summary>The identifier a subproblem is about.</summary>
    public AcmeIdentifier? Identifier { get; init; }

    /// <summary>The type without the <c>urn:ietf:params:acme:error:</c> prefix, e.g. <c>rateLimited</c>.</summary>
    [JsonIgnore]
    public string ShortType => Type is { } type && type.StartsWith(AcmeErrorTypes.Prefix, StringComparison.Ordinal) ? type[AcmeErrorTypes.Prefix.Length..] : Type ?? "unknown";

    /// <inheritdoc />
    public override string ToString()
    {
        var text = $"{ShortType}: {Detail}";
        if (Subproblems is { Count: > 0 } subproblems)
        {
            text += " (" + string.Join("; ", subproblems.Select(s => $"{s.Identifier?.Value}: {s.ShortType}: {s.Detail}")) + ")";
        }

        return text;
    }
}

/// <summary>ACME Renewal Information for one certificate (RFC 9773 §4.2).</summary>
public sealed record AcmeRenewalInfo
{
    /// <summary>The window in which the CA wants the certificate renewed.</summary>
    public required AcmeRenewalWindow SuggestedWindow { get; init; }

    /// <summary>A page explaining an unusual window (for example a mass revocation).</summary>
    [JsonPropertyName("explanationURL")]
    public Uri? ExplanationUrl { get; init; }

    /// <summary>When to ask again (the response's <c>Retry-After</c>).</summary>
    [JsonIgnore]
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>
    /// A uniformly random time in the window, as RFC 9773 §4.2 recommends (so a fleet does not
    /// renew at one instant); the window start if the window is empty or reversed.
    /// </summary>
    public DateTimeOffset PickRenewalTime()
    {
        var (start, end) = (SuggestedWindow.Start, SuggestedWindow.End);
        if (end <= start)
        {
            return start;
        }

        var offset = (long)(System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue) / (double)int.MaxValue * (end - start).Ticks);
        return start + TimeSpan.FromTicks(offset);
    }
}

/// <summary>The ARI suggested window.</summary>
/// <param name="Start">Renew no earlier than this.</param>
/// <param name="End">Renew before this.</param>
public sealed record AcmeRenewalWindow(DateTimeOffset Start, DateTimeOffset End);

/// <summary>A downloaded certificate chain.</summary>
/// <param name="Pem">PEM: the leaf first, then the intermediates.</param>
/// <param name="Alternates">URLs of the alternate chains the CA offered (<c>Link: rel="alternate"</c>).</param>
public sealed record AcmeCertificateChain(string Pem, IReadOnlyList<Uri> Alternates);

/// <summary>The problem types of RFC 8555 §6.7 and RFC 9773.</summary>
public static class AcmeErrorTypes
{
    /// <summary>The URN prefix of ACME error types.</summary>
    public const string Prefix = "urn:ietf:params:acme:error:";

    /// <summary>The account does not exist (answer to <c>onlyReturnExisting</c>).</summary>
    public const string AccountDoesNotExist = Prefix + "accountDoesNotExist";

    /// <summary>The nonce was unknown, used or rejected; retry with the fresh one.</summary>
    public const string BadNonce = Prefix + "badNonce";

    /// <summary>A rate limit was reached; see <c>Retry-After</c>.</summary>
    public const string RateLimited = Prefix + "rateLimited";

    /// <summary>The client lacks authorization.</summary>
    public const string Unauthorized = Prefix + "unauthorized";

    /// <summary>The request was malformed.</summary>
    public const string Malformed = Prefix + "malformed";

    /// <summary>The CA requires an External Account Binding.</summary>
    public const string ExternalAccountRequired = Prefix + "externalAccountRequired";

    /// <summary>The CA refuses the identifier by policy.</summary>
    public const string RejectedIdentifier = Prefix + "rejectedIdentifier";

    /// <summary>The CA failed internally.</summary>
    public const string ServerInternal = Prefix + "serverInternal";

    /// <summary>The CSR is unacceptable.</summary>
    public const string BadCsr = Prefix + "badCSR";

    /// <summary>The order is not ready to finalize.</summary>
    public const string OrderNotReady = Prefix + "orderNotReady";

    /// <summary>The certificate named in <c>replaces</c> was already replaced (RFC 9773 §5).</summary>
    public const string AlreadyReplaced = Prefix + "alreadyReplaced";

    /// <summary>The certificate is already revoked.</summary>
    public const string AlreadyRevoked = Prefix + "alreadyRevoked";

    /// <summary>The DNS lookup of the challenge failed.</summary>
    public const string Dns = Prefix + "dns";

    /// <summary>The validation response was wrong.</summary>
    public const string IncorrectResponse = Prefix + "incorrectResponse";
}
