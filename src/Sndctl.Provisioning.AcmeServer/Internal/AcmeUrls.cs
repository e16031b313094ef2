using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>The front door's URLs under its base (<c>https://host/acme</c>), as the request's scheme and host say.</summary>
internal sealed class AcmeUrls(Uri baseUrl)
{
    private readonly string _base = baseUrl.AbsoluteUri.TrimEnd('/');

    public Uri Directory => Of("directory");

    public Uri NewNonce => Of("new-nonce");

    public Uri NewAccount => Of("new-account");

    public Uri NewOrder => Of("new-order");

    public Uri RevokeCertificate => Of("revoke-cert");

    public Uri KeyChange => Of("key-change");

    public Uri RenewalInfo => Of("renewal-info");

    public Uri Account(string id) => Of("account/" + id);

    public Uri Order(string id) => Of("order/" + id);

    public Uri Finalize(string id) => Of("order/" + id + "/finalize");

    public Uri Authorization(string orderId) => Of("authz/" + orderId);

    public Uri Challenge(string orderId) => Of("chall/" + orderId);

    public Uri Certificate(Guid id) => Of("cert/" + id.ToString("N"));

    /// <summary>The account ID a <c>kid</c> names, when it is one of this front door's account URLs.</summary>
    public string? AccountIdOf(string? kid)
    {
        var prefix = _base + "/account/";
        return kid is not null && kid.StartsWith(prefix, StringComparison.Ordinal) && kid.Length > prefix.Length && kid.Length <= prefix.Length + 64
            && kid.AsSpan(prefix.Length).IndexOfAnyExcept(IdAlphabet) < 0 ? kid[prefix.Length..] : null;
    }

    /// <summary>The characters of the IDs this front door makes (base64url).</summary>
    public static readonly System.Buffers.SearchValues<char> IdAlphabet = System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>Whether <paramref name="id"/> could be one of this front door's IDs (bounded, base64url).</summary>
    public static bool IsId(string? id) => id is { Length: > 0 and <= 64 } && id.AsSpan().IndexOfAnyExcept(IdAlphabet) < 0;

    /// <summary>A new random ID (128 bits, base64url).</summary>
    public static string NewId() => System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    private Uri Of(string path) => new(_base + "/" + path);

    /// <summary>The URL as a JWS names it: the request URL compared exactly, as RFC 8555 §6.4 asks.</summary>
    public static bool Same(string? jwsUrl, AcmeServerRequest request) => string.Equals(jwsUrl, request.Url.AbsoluteUri, StringComparison.Ordinal);
}
