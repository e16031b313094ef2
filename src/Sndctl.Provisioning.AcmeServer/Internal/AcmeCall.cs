using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>
/// A POST whose JWS was read and whose signature verified: the key that signed it and, for every request but
/// newAccount, the account (<c>kid</c>) and its device (neither deleted nor disabled). Its nonce is checked but
/// not yet used: a request uses it once it is authenticated, so nothing an outsider sends writes to the store.
/// </summary>
internal sealed class AcmeCall(
    AcmeServerRequest request,
    AcmeUrls urls,
    JwsMessage jws,
    AccountKey key,
    DeviceAcmeAccount? account,
    Device? device,
    string nonce,
    DateTimeOffset nonceExpires,
    IAcmeNonceStore nonces)
{
    public AcmeServerRequest Request { get; } = request;

    public AcmeUrls Urls { get; } = urls;

    public JwsMessage Jws { get; } = jws;

    /// <summary>The key that signed the request (the account's, or the new account's).</summary>
    public AccountKey Key { get; } = key;

    /// <summary>The account of <c>kid</c>; null for newAccount.</summary>
    public DeviceAcmeAccount? Account { get; } = account;

    /// <summary>The account's device; null for newAccount.</summary>
    public Device? Device { get; } = device;

    /// <summary>Uses the request's nonce: false when it was used before (a replay), on any instance.</summary>
    public Task<bool> UseNonceAsync(CancellationToken cancellationToken) => nonces.TryUseAsync(nonce, nonceExpires, cancellationToken);
}

/// <summary>What a resource answers, before the front door adds a fresh nonce and the index link.</summary>
internal sealed record AcmeResult(int Status, byte[] Body, string? ContentType)
{
    public Uri? Location { get; init; }

    public TimeSpan? RetryAfter { get; init; }

    public IReadOnlyList<(Uri Url, string Relation)> Links { get; init; } = [];

    public string? FailedDeviceId { get; init; }

    public bool NoStore { get; init; }

    public static AcmeResult Json(int status, byte[] body) => new(status, body, AcmeJson.ContentType);

    public static AcmeResult Of(AcmeProblem problem) => new(problem.Status, problem.ToJson(), AcmeJson.ProblemContentType)
    {
        RetryAfter = problem.RetryAfter,
        Location = problem.Location,
        FailedDeviceId = problem.FailedDeviceId,
    };

    public static readonly AcmeResult ReplayedNonce = Of(AcmeProblem.BadNonce("The nonce was used before: get a new one (Replay-Nonce of this answer, or new-nonce)."));
}
