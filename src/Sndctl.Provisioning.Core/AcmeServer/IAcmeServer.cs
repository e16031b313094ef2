namespace Sndctl.Provisioning.Core;

/// <summary>
/// The ACME front door (RFC 8555, with RFC 9773 renewal information): an ACME CA for devices in front of the
/// real issuer, where a device's ID and secret are its External Account Binding. It runs the whole protocol
/// itself (JWS, nonces, accounts, orders, the CSR rules, issuance through the same pipeline as the device API),
/// so an HTTP layer only routes requests to it and writes what it answers.
/// </summary>
public interface IAcmeServer
{
    /// <summary>
    /// Answers one request. Every failure is an RFC 8555 problem document in the response (never an exception
    /// for a client's mistake); only cancellation throws.
    /// </summary>
    Task<AcmeServerResponse> HandleAsync(AcmeServerRequest request, CancellationToken cancellationToken);
}

/// <summary>The resources of the ACME front door, each at its own URL under the directory's base.</summary>
public enum AcmeServerResource
{
    /// <summary><c>GET {base}/directory</c>.</summary>
    Directory,

    /// <summary><c>HEAD|GET {base}/new-nonce</c>.</summary>
    NewNonce,

    /// <summary><c>POST {base}/new-account</c>.</summary>
    NewAccount,

    /// <summary><c>POST {base}/account/{id}</c>: read, update or deactivate.</summary>
    Account,

    /// <summary><c>POST {base}/new-order</c>.</summary>
    NewOrder,

    /// <summary><c>POST {base}/order/{id}</c> (POST-as-GET).</summary>
    Order,

    /// <summary><c>POST {base}/order/{id}/finalize</c>.</summary>
    Finalize,

    /// <summary><c>POST {base}/authz/{id}</c> (POST-as-GET).</summary>
    Authorization,

    /// <summary><c>POST {base}/chall/{id}</c>.</summary>
    Challenge,

    /// <summary><c>POST {base}/cert/{id}</c> (POST-as-GET): the chain, PEM.</summary>
    Certificate,

    /// <summary><c>POST {base}/revoke-cert</c>.</summary>
    RevokeCertificate,

    /// <summary><c>POST {base}/key-change</c>.</summary>
    KeyChange,

    /// <summary><c>GET {base}/renewal-info/{certID}</c> (RFC 9773).</summary>
    RenewalInfo,
}

/// <summary>One request to the ACME front door, as the HTTP layer received it.</summary>
/// <param name="Resource">What was asked for.</param>
/// <param name="ResourceId">The ID in the URL (an account, order, authorization, challenge, certificate or certID), if any.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Url">The request's absolute URL as the client sent it (scheme and host as forwarded by a trusted proxy): a JWS must name it.</param>
/// <param name="BaseUrl">The front door's base URL (<c>https://host/acme</c>): every URL in an answer is under it.</param>
/// <param name="ContentType">The request's content type (POSTs must be <c>application/jose+json</c>).</param>
/// <param name="Body">The request body (a flattened JWS for POSTs).</param>
/// <param name="ClientNetwork">The client's network (<see cref="ClientNetwork"/>), for limits per network.</param>
public sealed record AcmeServerRequest(
    AcmeServerResource Resource,
    string? ResourceId,
    string Method,
    Uri Url,
    Uri BaseUrl,
    string? ContentType,
    ReadOnlyMemory<byte> Body,
    string ClientNetwork);

/// <summary>What the ACME front door answers: status, body and the headers RFC 8555 asks for.</summary>
/// <param name="StatusCode">The HTTP status code.</param>
/// <param name="Body">The body (JSON, a problem document, or a PEM chain); empty for none.</param>
/// <param name="ContentType">The body's content type, if any.</param>
public sealed record AcmeServerResponse(int StatusCode, ReadOnlyMemory<byte> Body, string? ContentType)
{
    /// <summary>A fresh nonce for the <c>Replay-Nonce</c> header.</summary>
    public string? Nonce { get; init; }

    /// <summary>The <c>Location</c> header (a new account's or order's URL).</summary>
    public Uri? Location { get; init; }

    /// <summary>The <c>Retry-After</c> header.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary><c>Link</c> headers: (URL, relation), e.g. the directory as <c>index</c>.</summary>
    public IReadOnlyList<(Uri Url, string Relation)> Links { get; init; } = [];

    /// <summary>Set when the request presented a device's credentials (an EAB MAC) that did not match: the HTTP layer's failed-authentication throttle counts it.</summary>
    public string? FailedDeviceId { get; init; }

    /// <summary>Whether the answer must not be cached (<c>Cache-Control: no-store</c>, for nonces).</summary>
    public bool NoStore { get; init; }
}
