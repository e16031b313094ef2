using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Sndctl.Provisioning.Acme.Tests;

/// <summary>
/// Unit tests of <see cref="AcmeClient"/> alone, with a scripted HTTP handler: nonce retry, polling
/// timing with and without Retry-After, timeouts. Everything else runs against Pebble.
/// </summary>
public sealed class AcmeClientBehaviourTests
{
    private static readonly Uri Directory = new("https://ca.test/directory");

    [Fact]
    public async Task A_badNonce_answer_is_retried_once_with_the_nonce_it_carried()
    {
        var handler = new ScriptedHandler();
        handler.On("new-order", request => handler.Attempts("new-order") == 1
            ? Problem(HttpStatusCode.BadRequest, "badNonce", nonce: "fresh-from-rejection")
            : Json(HttpStatusCode.Created, """{"status":"pending","identifiers":[],"authorizations":[],"finalize":"https://ca.test/fin"}""", location: "https://ca.test/order/1"));
        var client = handler.CreateClient();

        var order = await client.NewOrderAsync(new AcmeOrderRequest { Identifiers = [AcmeIdentifier.Dns("a.example")] }, Ct);

        Assert.Equal("https://ca.test/order/1", order.Location.AbsoluteUri);
        Assert.Equal(["initial-nonce", "fresh-from-rejection"], handler.NoncesSentTo("new-order"));
    }

    [Fact]
    public async Task A_badNonce_after_the_last_retry_is_thrown_as_AcmeBadNonceException()
    {
        var handler = new ScriptedHandler();
        handler.On("new-order", _ => Problem(HttpStatusCode.BadRequest, "badNonce", nonce: "n" + Guid.NewGuid()));
        var client = handler.CreateClient(new AcmeClientOptions { BadNonceRetries = 1 });

        await Assert.ThrowsAsync<AcmeBadNonceException>(() => client.NewOrderAsync(new AcmeOrderRequest { Identifiers = [AcmeIdentifier.Dns("a.example")] }, Ct));
        Assert.Equal(2, handler.Attempts("new-order"));
    }

    [Theory]
    [InlineData("deactivated", true)]
    [InlineData(null, true)] // the CA will not show the account at all
    [InlineData("valid", false)] // unauthorized for another reason (a CAA record, a policy): it stands
    public async Task An_unauthorized_answer_is_checked_against_the_account_resource(string? accountStatus, bool accountGone)
    {
        var handler = new ScriptedHandler();
        handler.On("new-order", _ => Problem(HttpStatusCode.Forbidden, "unauthorized", nonce: "n1"));
        handler.On("acct/1", _ => accountStatus is null
            ? Problem(HttpStatusCode.Forbidden, "unauthorized", nonce: "n2")
            : Json(HttpStatusCode.OK, $$"""{"status":"{{accountStatus}}"}""", location: "https://ca.test/acct/1", nonce: "n3"));
        var client = handler.CreateClient();

        var thrown = await Assert.ThrowsAnyAsync<AcmeUnauthorizedOrInvalid>(async () =>
        {
            try
            {
                await client.NewOrderAsync(new AcmeOrderRequest { Identifiers = [AcmeIdentifier.Dns("a.example")] }, Ct);
            }
            catch (AcmeProblemException ex)
            {
                throw new AcmeUnauthorizedOrInvalid(ex);
            }
        });

        Assert.IsType(accountGone ? typeof(AcmeAccountInvalidException) : typeof(AcmeUnauthorizedException), thrown.Inner);
        Assert.Equal(1, handler.Attempts("acct/1"));
    }

    private sealed class AcmeUnauthorizedOrInvalid(AcmeProblemException inner) : Exception(inner.Message)
    {
        public AcmeProblemException Inner { get; } = inner;
    }

    [Fact]
    public async Task Polling_honours_Retry_After_and_otherwise_backs_off_from_tens_of_milliseconds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-23T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var handler = new ScriptedHandler(time);
        handler.On("authz", _ => handler.Attempts("authz") switch
        {
            1 => Json(HttpStatusCode.OK, Authorization("pending"), retryAfter: TimeSpan.FromSeconds(3)),
            2 or 3 => Json(HttpStatusCode.OK, Authorization("pending")),
            _ => Json(HttpStatusCode.OK, Authorization("valid")),
        });
        var client = handler.CreateClient();

        var wait = client.WaitForAuthorizationAsync(new Uri("https://ca.test/authz/1"), Ct);
        while (!wait.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(5));
            await Task.Delay(1, Ct);
        }

        Assert.Equal("valid", (await wait).Status);
        var at = handler.TimesOf("authz");
        Assert.InRange(at[1] - at[0], TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3.1));        // Retry-After: 3
        Assert.InRange(at[2] - at[1], TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(60));  // own backoff: 20 ms...
        Assert.InRange(at[3] - at[2], TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(70));  // ...then 30 ms
    }

    [Fact]
    public async Task An_invalid_authorization_surfaces_the_challenge_error()
    {
        var handler = new ScriptedHandler();
        handler.On("authz", _ => Json(HttpStatusCode.OK, """
            {"identifier":{"type":"dns","value":"a.example"},"status":"invalid","challenges":[{"type":"dns-01","url":"https://ca.test/chal/1","status":"invalid","token":"t",
             "error":{"type":"urn:ietf:params:acme:error:incorrectResponse","detail":"No TXT record found at _acme-challenge.a.example","status":403}}]}
            """));
        var client = handler.CreateClient();

        var failure = await Assert.ThrowsAsync<AcmeValidationException>(() => client.WaitForAuthorizationAsync(new Uri("https://ca.test/authz/1"), Ct));
        Assert.Equal(AcmeErrorTypes.IncorrectResponse, failure.Problem?.Type);
        Assert.Contains("No TXT record found", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_CA_that_does_not_answer_in_time_gives_a_TimeoutException_naming_the_resource()
    {
        var handler = new ScriptedHandler { Hang = "new-order" };
        var client = handler.CreateClient(new AcmeClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(200) });

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => client.NewOrderAsync(new AcmeOrderRequest { Identifiers = [AcmeIdentifier.Dns("a.example")] }, Ct));
        Assert.Contains("new-order", timeout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Renewal_info_is_read_with_its_Retry_After()
    {
        var handler = new ScriptedHandler();
        handler.On("renewal-info/", _ => Json(HttpStatusCode.OK, """{"suggestedWindow":{"start":"2026-12-01T00:00:00Z","end":"2026-12-03T00:00:00Z"},"explanationURL":"https://ca.test/why"}""", retryAfter: TimeSpan.FromHours(6)));
        var client = handler.CreateClient();
        using var certificate = TestCertificates.WithAuthorityKeyIdentifier();

        var info = await client.GetRenewalInfoAsync(certificate, Ct);

        Assert.Equal(DateTimeOffset.Parse("2026-12-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), info!.SuggestedWindow.Start);
        Assert.Equal(TimeSpan.FromHours(6), info.RetryAfter);
        Assert.Equal("https://ca.test/why", info.ExplanationUrl?.AbsoluteUri);
        Assert.EndsWith("/renewal-info/" + AcmeCertificateIdentifier.TryGet(certificate), handler.LastUrl("renewal-info/"), StringComparison.Ordinal);
    }

    private static string Authorization(string status) =>
        $$"""{"identifier":{"type":"dns","value":"a.example"},"status":"{{status}}","challenges":[]}""";

    private static HttpResponseMessage Json(HttpStatusCode status, string json, string? location = null, TimeSpan? retryAfter = null, string? nonce = null)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (nonce != string.Empty)
        {
            response.Headers.Add("Replay-Nonce", nonce ?? "n" + Guid.NewGuid().ToString("N"));
        }
        if (location is not null)
        {
            response.Headers.Location = new Uri(location);
        }

        if (retryAfter is { } delta)
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delta);
        }

        return response;
    }

    private static HttpResponseMessage Problem(HttpStatusCode status, string type, string nonce)
    {
        var response = Json(status, $$"""{"type":"urn:ietf:params:acme:error:{{type}}","detail":"scripted","status":{{(int)status}}}""", nonce: nonce);
        response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/problem+json");
        return response;
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A CA in a box: directory and nonces built in, other resources scripted per test.</summary>
    private sealed class ScriptedHandler(TimeProvider? time = null) : HttpMessageHandler
    {
        private readonly Dictionary<string, Func<HttpRequestMessage, HttpResponseMessage>> _routes = [];
        private readonly ConcurrentQueue<(string Path, string? Nonce, DateTimeOffset At, string Url)> _requests = new();
        private readonly TimeProvider _time = time ?? TimeProvider.System;

        public string? Hang { get; init; }

        public void On(string pathPrefix, Func<HttpRequestMessage, HttpResponseMessage> respond) => _routes[pathPrefix] = respond;

        public int Attempts(string prefix) => _requests.Count(r => r.Path.StartsWith(prefix, StringComparison.Ordinal));

        public List<string?> NoncesSentTo(string prefix) => [.. _requests.Where(r => r.Path.StartsWith(prefix, StringComparison.Ordinal)).Select(r => r.Nonce)];

        public List<DateTimeOffset> TimesOf(string prefix) => [.. _requests.Where(r => r.Path.StartsWith(prefix, StringComparison.Ordinal)).Select(r => r.At)];

        public string LastUrl(string prefix) => _requests.Last(r => r.Path.StartsWith(prefix, StringComparison.Ordinal)).Url;

        public AcmeClient CreateClient(AcmeClientOptions? options = null)
        {
            var client = new AcmeClient(new HttpClient(this), Directory, AcmeAccountKey.Create(), options, timeProvider: _time)
            {
                AccountUrl = new Uri("https://ca.test/acct/1"),
            };
            return client;
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath.TrimStart('/');
            if (path == "directory")
            {
                return Json(HttpStatusCode.OK, """
                    {"newNonce":"https://ca.test/new-nonce","newAccount":"https://ca.test/new-acct","newOrder":"https://ca.test/new-order",
                     "revokeCert":"https://ca.test/revoke","keyChange":"https://ca.test/key-change","renewalInfo":"https://ca.test/renewal-info/"}
                    """, nonce: string.Empty);
            }

            if (path == "new-nonce")
            {
                return Json(HttpStatusCode.OK, "{}", nonce: "initial-nonce");
            }

            string? nonce = null;
            if (request.Content is not null)
            {
                using var jws = JsonDocument.Parse(await request.Content.ReadAsByteArrayAsync(cancellationToken));
                using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(jws.RootElement.GetProperty("protected").GetString()!));
                nonce = header.RootElement.GetProperty("nonce").GetString();
            }

            _requests.Enqueue((path, nonce, _time.GetUtcNow(), request.RequestUri.AbsoluteUri));
            if (Hang is not null && path.StartsWith(Hang, StringComparison.Ordinal))
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            var route = _routes.First(r => path.StartsWith(r.Key, StringComparison.Ordinal));
            return route.Value(request);
        }
    }
}
