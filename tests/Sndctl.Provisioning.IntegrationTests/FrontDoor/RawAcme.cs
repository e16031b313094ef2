using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sndctl.Provisioning.Acme;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// Hand-made ACME requests against the front door, for what a well-behaved client never sends: replayed nonces,
/// a JWS for another URL, a body that is not a JWS at all, an account deactivation. Signed with
/// <see cref="AcmeAccountKey"/> so the signature itself is right unless the test says otherwise.
/// </summary>
internal sealed class RawAcme(HttpClient http, string baseUrl)
{
    public string Url(string path) => baseUrl.TrimEnd('/') + "/acme/" + path;

    public async Task<string> NonceAsync()
    {
        using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, Url("new-nonce")));
        return response.Headers.GetValues("Replay-Nonce").Single();
    }

    /// <summary>A flattened JWS signed by <paramref name="key"/>: with <paramref name="kid"/>, or the jwk.</summary>
    public static string Jws(AcmeAccountKey key, string url, string? nonce, string? kid, string? payloadJson, string? algorithm = null)
    {
        var header = new StringBuilder("{\"alg\":\"").Append(algorithm ?? key.JwsAlgorithm).Append('"');
        header.Append(kid is null ? ",\"jwk\":" + key.JwkJson : ",\"kid\":\"" + kid + "\"");
        if (nonce is not null)
        {
            header.Append(",\"nonce\":\"").Append(nonce).Append('"');
        }

        header.Append(",\"url\":\"").Append(url).Append("\"}");
        var protectedPart = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header.ToString()));
        var payloadPart = payloadJson is null ? "" : Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payloadJson));
        var signature = Base64Url.EncodeToString(key.Sign(Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart)));
        return JsonSerializer.Serialize(new { @protected = protectedPart, payload = payloadPart, signature });
    }

    /// <summary>The External Account Binding member for <paramref name="key"/>, MACed with <paramref name="macKey"/> (base64url).</summary>
    public static string ExternalAccountBinding(AcmeAccountKey key, string keyId, string macKey, string url)
    {
        var protectedPart = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"alg":"HS256","kid":"{{keyId}}","url":"{{url}}"}"""));
        var payloadPart = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key.JwkJson));
        var mac = System.Security.Cryptography.HMACSHA256.HashData(Base64Url.DecodeFromChars(macKey), Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart));
        return JsonSerializer.Serialize(new { @protected = protectedPart, payload = payloadPart, signature = Base64Url.EncodeToString(mac) });
    }

    public Task<HttpResponseMessage> PostAsync(string url, string body, string contentType = "application/jose+json")
        => http.SendAsync(new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, new MediaTypeHeaderValue(contentType)) });

    /// <summary>Makes an account for <paramref name="key"/> bound to the device; returns its URL.</summary>
    public async Task<string> NewAccountAsync(AcmeAccountKey key, string deviceId, string secret)
    {
        var url = Url("new-account");
        var payload = $$"""{"termsOfServiceAgreed":true,"externalAccountBinding":{{ExternalAccountBinding(key, deviceId, secret, url)}}}""";
        using var response = await PostAsync(url, Jws(key, url, await NonceAsync(), null, payload));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!.AbsoluteUri;
    }
}
