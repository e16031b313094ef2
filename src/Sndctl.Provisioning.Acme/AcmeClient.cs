using System.Diagnostics.Metrics;
using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sndctl.Provisioning.Acme.Internal;

namespace Sndctl.Provisioning.Acme;

/// <summary>
/// An RFC 8555 ACME client for one account key at one CA. Thread-safe: share one instance; requests
/// run concurrently, reuse the <see cref="HttpClient"/>'s connections and draw nonces from a pool
/// that every response refills.
/// </summary>
/// <remarks>
/// Every call takes a <see cref="CancellationToken"/>; each HTTP exchange is also bounded by
/// <see cref="AcmeClientOptions.RequestTimeout"/> (a <see cref="TimeoutException"/>). Problem
/// documents become <see cref="AcmeProblemException"/> subclasses.
/// </remarks>
public sealed partial class AcmeClient
{
    private readonly AcmeTransport _transport;
    private readonly AcmeClientOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private Task<AcmeDirectory>? _directory;
    private volatile AcmeAccountKey _accountKey;
    private volatile Uri? _accountUrl;
    private readonly AcmeMetrics _metrics;

    /// <summary>Creates a client. It does not own <paramref name="httpClient"/>.</summary>
    /// <param name="httpClient">Sends the requests; its handler decides TLS trust and connection reuse.</param>
    /// <param name="directoryUrl">The CA's directory, e.g. <c>https://acme-v02.api.letsencrypt.org/directory</c>.</param>
    /// <param name="accountKey">The account key every request is signed with.</param>
    /// <param name="options">Timing and retries; defaults when <see langword="null"/>.</param>
    /// <param name="logger">Logs each exchange at Debug (never keys or payloads).</param>
    /// <param name="timeProvider">The clock for polling waits.</param>
    /// <param name="meterFactory">Makes the <c>Sndctl.Provisioning.Acme</c> meter; without one, a meter of that name shared by standalone clients.</param>
    public AcmeClient(HttpClient httpClient, Uri directoryUrl, AcmeAccountKey accountKey, AcmeClientOptions? options = null, ILogger<AcmeClient>? logger = null, TimeProvider? timeProvider = null, IMeterFactory? meterFactory = null)
        : this(httpClient, directoryUrl, accountKey, options, logger, timeProvider, meterFactory is null ? AcmeMetrics.Standalone : new AcmeMetrics(meterFactory))
    {
    }

    internal AcmeClient(HttpClient httpClient, Uri directoryUrl, AcmeAccountKey accountKey, AcmeClientOptions? options, ILogger<AcmeClient>? logger, TimeProvider? timeProvider, AcmeMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(directoryUrl);
        ArgumentNullException.ThrowIfNull(accountKey);
        DirectoryUrl = directoryUrl;
        _accountKey = accountKey;
        _options = options ?? new AcmeClientOptions();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _metrics = metrics;
        _transport = new AcmeTransport(httpClient, _options, _logger, _time, metrics, async ct => (await GetDirectoryAsync(ct).ConfigureAwait(false)).NewNonce);
    }

    /// <summary>The CA's directory URL.</summary>
    public Uri DirectoryUrl { get; }

    /// <summary>The key requests are signed with (changes after <see cref="ChangeAccountKeyAsync"/>).</summary>
    public AcmeAccountKey AccountKey => _accountKey;

    /// <summary>
    /// The account URL used as the JWS <c>kid</c>: set by <see cref="CreateAccountAsync"/> and
    /// <see cref="FindAccountAsync"/>, or at construction when the caller already knows it.
    /// </summary>
    public Uri? AccountUrl { get => _accountUrl; init => _accountUrl = value; }

    /// <summary>The directory, fetched once and kept (fetched again if the first fetch failed).</summary>
    public Task<AcmeDirectory> GetDirectoryAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _directory);
        if (current is { IsCompletedSuccessfully: true })
        {
            return current;
        }

        if (current is null || current.IsFaulted || current.IsCanceled)
        {
            // One fetch shared by every caller; it is bounded by the request timeout, not by one caller's token.
            var fetch = FetchDirectoryAsync();
            current = Interlocked.CompareExchange(ref _directory, fetch, current) == current ? fetch : Volatile.Read(ref _directory)!;
        }

        return current.WaitAsync(cancellationToken);
    }

    private async Task<AcmeDirectory> FetchDirectoryAsync()
    {
        await Task.Yield();
        using var response = await _transport.SendAsync(() => AcmeTransport.Get(DirectoryUrl, "application/json"), DirectoryUrl, CancellationToken.None).ConfigureAwait(false);
        await _transport.EnsureSuccessAsync(response, DirectoryUrl, CancellationToken.None).ConfigureAwait(false);
        return await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeDirectory, DirectoryUrl, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates an account for the key (RFC 8555 §7.3), or returns the existing one: the CA answers an
    /// existing key with its account rather than a second one. Sets <see cref="AccountUrl"/>.
    /// </summary>
    public async Task<AcmeAccount> CreateAccountAsync(AcmeNewAccountRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        var key = _accountKey;
        byte[]? eab = null;
        if (request.ExternalAccountBinding is { } binding)
        {
            eab = Jws.CreateExternalAccountBinding(key, binding.KeyId, binding.HmacKey, directory.NewAccount);
        }

        var payload = Jws.Payload(writer =>
        {
            writer.WriteStartObject();
            if (request.Contact is { Count: > 0 } contact)
            {
                writer.WriteStartArray("contact");
                foreach (var item in contact)
                {
                    writer.WriteStringValue(item);
                }

                writer.WriteEndArray();
            }

            writer.WriteBoolean("termsOfServiceAgreed", request.TermsOfServiceAgreed);
            if (eab is not null)
            {
                writer.WritePropertyName("externalAccountBinding");
                writer.WriteRawValue(eab, skipInputValidation: true);
            }

            writer.WriteEndObject();
        });

        using var response = await _transport.PostAsync(directory.NewAccount, payload, _accountKey, null, cancellationToken).ConfigureAwait(false);
        return await ReadAccountAsync(response, directory.NewAccount, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Finds the account of the key without creating one (<c>onlyReturnExisting</c>); <see langword="null"/>
    /// when the CA has none. Sets <see cref="AccountUrl"/> when found.
    /// </summary>
    public async Task<AcmeAccount?> FindAccountAsync(CancellationToken cancellationToken)
    {
        var directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        var payload = """{"onlyReturnExisting":true}"""u8.ToArray();
        try
        {
            using var response = await _transport.PostAsync(directory.NewAccount, payload, _accountKey, null, cancellationToken).ConfigureAwait(false);
            return await ReadAccountAsync(response, directory.NewAccount, cancellationToken).ConfigureAwait(false);
        }
        catch (AcmeAccountDoesNotExistException)
        {
            return null;
        }
    }

    /// <summary>
    /// Rolls the account over to <paramref name="newKey"/> (RFC 8555 §7.3.5); afterwards this client
    /// signs with the new key. Store the new key before calling: if the call times out, either key may be current.
    /// </summary>
    public async Task ChangeAccountKeyAsync(AcmeAccountKey newKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(newKey);
        var directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        var keyChange = directory.KeyChange ?? throw new NotSupportedException("The CA's directory offers no keyChange resource.");
        var accountUrl = RequireAccount();
        var inner = Jws.CreateKeyChange(_accountKey, newKey, accountUrl, keyChange);
        using var response = await _transport.PostAsync(keyChange, inner, _accountKey, RequireAccount(), cancellationToken).ConfigureAwait(false);
        _accountKey = newKey;
    }

    /// <summary>Places a new order (RFC 8555 §7.4), with <c>replaces</c> (RFC 9773) and <c>profile</c> when given.</summary>
    public async Task<AcmeOrder> NewOrderAsync(AcmeOrderRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Identifiers.Count == 0)
        {
            throw new ArgumentException("An order needs at least one identifier.", nameof(request));
        }

        var directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        if (request.Profile is { } profile && directory.Meta?.Profiles is { } offered && !offered.ContainsKey(profile))
        {
            throw new ArgumentException($"The CA does not offer the certificate profile '{profile}'; it offers: {string.Join(", ", offered.Keys)}.", nameof(request));
        }

        var payload = Jws.Payload(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("identifiers");
            foreach (var identifier in request.Identifiers)
            {
                writer.WriteStartObject();
                writer.WriteString("type", identifier.Type);
                writer.WriteString("value", identifier.Value);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            if (request.NotBefore is { } notBefore)
            {
                writer.WriteString("notBefore", notBefore.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
            }

            if (request.NotAfter is { } notAfter)
            {
                writer.WriteString("notAfter", notAfter.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
            }

            if (request.Replaces is { } replaces)
            {
                writer.WriteString("replaces", replaces);
            }

            if (request.Profile is { } chosen)
            {
                writer.WriteString("profile", chosen);
            }

            writer.WriteEndObject();
        });

        using var response = await _transport.PostAsync(directory.NewOrder, payload, _accountKey, RequireAccount(), cancellationToken).ConfigureAwait(false);
        var location = response.Headers.Location ?? throw new AcmeProtocolException("The CA created an order without a Location header.");
        var order = await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeOrder, directory.NewOrder, cancellationToken).ConfigureAwait(false);
        return order with { Location = Absolute(directory.NewOrder, location) };
    }

    /// <summary>Reads an order (POST-as-GET).</summary>
    public async Task<AcmeOrder> GetOrderAsync(Uri orderUrl, CancellationToken cancellationToken)
        => (await GetOrderWithRetryAfterAsync(orderUrl, cancellationToken).ConfigureAwait(false)).Order;

    /// <summary>Reads an authorization (POST-as-GET).</summary>
    public async Task<AcmeAuthorization> GetAuthorizationAsync(Uri authorizationUrl, CancellationToken cancellationToken)
        => (await GetAuthorizationWithRetryAfterAsync(authorizationUrl, cancellationToken).ConfigureAwait(false)).Authorization;

    /// <summary>Tells the CA the challenge is ready to validate (RFC 8555 §7.5.1: POST <c>{}</c>).</summary>
    public async Task<AcmeChallenge> RespondToChallengeAsync(Uri challengeUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(challengeUrl);
        using var response = await _transport.PostAsync(challengeUrl, "{}"u8.ToArray(), _accountKey, RequireAccount(), cancellationToken).ConfigureAwait(false);
        return await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeChallenge, challengeUrl, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Polls an authorization until it is <c>valid</c>, honouring <c>Retry-After</c> and otherwise
    /// backing off from <see cref="AcmeClientOptions.PollInitialDelay"/>.
    /// </summary>
    /// <exception cref="AcmeValidationException">The authorization became invalid; carries the challenge's error.</exception>
    public async Task<AcmeAuthorization> WaitForAuthorizationAsync(Uri authorizationUrl, CancellationToken cancellationToken)
    {
        var delay = _options.PollInitialDelay;
        while (true)
        {
            var (authorization, retryAfter) = await GetAuthorizationWithRetryAfterAsync(authorizationUrl, cancellationToken).ConfigureAwait(false);
            switch (authorization.Status)
            {
                case AcmeStatus.Valid:
                    return authorization;
                case AcmeStatus.Pending or AcmeStatus.Processing:
                    break;
                default:
                    var error = authorization.Challenges.FirstOrDefault(c => c.Error is not null)?.Error;
                    throw new AcmeValidationException(
                        $"The CA did not validate '{authorization.Identifier.Value}' (authorization {authorization.Status})" + (error is null ? "." : $": {error}"),
                        error);
            }

            delay = await PollDelayAsync(retryAfter, delay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends the CSR (DER) to the order's finalize URL (RFC 8555 §7.4).</summary>
    public async Task<AcmeOrder> FinalizeOrderAsync(AcmeOrder order, ReadOnlyMemory<byte> certificateSigningRequest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        var finalize = order.Finalize ?? throw new ArgumentException("The order has no finalize URL.", nameof(order));
        var payload = Jws.Payload(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("csr", Base64Url.EncodeToString(certificateSigningRequest.Span));
            writer.WriteEndObject();
        });
        using var response = await _transport.PostAsync(finalize, payload, _accountKey, RequireAccount(), cancellationToken).ConfigureAwait(false);
        var finalized = await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeOrder, finalize, cancellationToken).ConfigureAwait(false);
        return finalized with { Location = order.Location };
    }

    /// <summary>
    /// Polls an order until it leaves <c>processing</c> (or <c>pending</c>) and returns it:
    /// <c>valid</c> (certificate ready) or <c>ready</c> (finalize next).
    /// </summary>
    /// <exception cref="AcmeValidationException">The order became invalid; carries the CA's reason.</exception>
    public async Task<AcmeOrder> WaitForOrderAsync(Uri orderUrl, CancellationToken cancellationToken)
    {
        var delay = _options.PollInitialDelay;
        while (true)
        {
            var (order, retryAfter) = await GetOrderWithRetryAfterAsync(orderUrl, cancellationToken).ConfigureAwait(false);
            switch (order.Status)
            {
                case AcmeStatus.Valid or AcmeStatus.Ready:
                    return order;
                case AcmeStatus.Pending or AcmeStatus.Processing:
                    break;
                default:
                    throw new AcmeValidationException($"The order became {order.Status}" + (order.Error is null ? "." : $": {order.Error}"), order.Error);
            }

            delay = await PollDelayAsync(retryAfter, delay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Downloads the certificate chain (PEM, leaf first). With <paramref name="preferredChain"/>, returns
    /// the first chain (default, then each <c>Link: rel="alternate"</c>) whose topmost certificate is
    /// issued by or named <paramref name="preferredChain"/> (a subject common name, e.g.
    /// <c>ISRG Root X1</c>); the default chain when none matches.
    /// </summary>
    public async Task<AcmeCertificateChain> DownloadCertificateAsync(Uri certificateUrl, string? preferredChain, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certificateUrl);
        var chain = await DownloadOneAsync(certificateUrl, cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrEmpty(preferredChain) || ChainMatches(chain.Pem, preferredChain))
        {
            return chain;
        }

        foreach (var alternate in chain.Alternates)
        {
            var candidate = await DownloadOneAsync(alternate, cancellationToken).ConfigureAwait(false);
            if (ChainMatches(candidate.Pem, preferredChain))
            {
                return candidate with { Alternates = chain.Alternates };
            }
        }

        Log.PreferredChainNotOffered(_logger, preferredChain);
        return chain;
    }

    /// <summary>Revokes a certificate this account holds (RFC 8555 §7.6), with an RFC 5280 reason code.</summary>
    /// <exception cref="AcmeProblemException">With type <c>alreadyRevoked</c> when it was revoked before.</exception>
    public async Task RevokeCertificateAsync(ReadOnlyMemory<byte> certificateDer, int? reason, CancellationToken cancellationToken)
    {
        var directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        var revokeCert = directory.RevokeCert ?? throw new NotSupportedException("The CA's directory offers no revokeCert resource.");
        var payload = Jws.Payload(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("certificate", Base64Url.EncodeToString(certificateDer.Span));
            if (reason is { } code)
            {
                writer.WriteNumber("reason", code);
            }

            writer.WriteEndObject();
        });
        using var response = await _transport.PostAsync(revokeCert, payload, _accountKey, RequireAccount(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks the CA when to renew a certificate (RFC 9773 §4.2); <see langword="null"/> when the directory
    /// offers no <c>renewalInfo</c> or the CA does not know the certificate.
    /// </summary>
    public async Task<AcmeRenewalInfo?> GetRenewalInfoAsync(X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var directory = await GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        if (directory.RenewalInfo is not { } renewalInfo || AcmeCertificateIdentifier.TryGet(certificate) is not { } id)
        {
            return null;
        }

        var url = new Uri(renewalInfo.AbsoluteUri.TrimEnd('/') + "/" + id);
        using var response = await _transport.SendAsync(() => AcmeTransport.Get(url, "application/json"), url, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await _transport.EnsureSuccessAsync(response, url, cancellationToken).ConfigureAwait(false);
        var info = await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeRenewalInfo, url, cancellationToken).ConfigureAwait(false);
        return info with { RetryAfter = _transport.RetryAfterOf(response) };
    }

    /// <summary>The key authorization for a challenge token (<c>token.thumbprint</c>).</summary>
    public string GetKeyAuthorization(string token) => _accountKey.GetKeyAuthorization(token);

    /// <summary>The TXT value to publish at <c>_acme-challenge.&lt;name&gt;</c> for a dns-01 token.</summary>
    public string GetDns01TxtValue(string token) => _accountKey.GetDns01TxtValue(token);

    private async Task<(AcmeOrder Order, TimeSpan? RetryAfter)> GetOrderWithRetryAfterAsync(Uri orderUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(orderUrl);
        using var response = await _transport.PostAsync(orderUrl, null, _accountKey, RequireAccount(), cancellationToken).ConfigureAwait(false);
        var order = await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeOrder, orderUrl, cancellationToken).ConfigureAwait(false);
        return (order with { Location = orderUrl }, _transport.RetryAfterOf(response));
    }

    private async Task<(AcmeAuthorization Authorization, TimeSpan? RetryAfter)> GetAuthorizationWithRetryAfterAsync(Uri authorizationUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authorizationUrl);
        using var response = await _transport.PostAsync(authorizationUrl, null, _accountKey, RequireAccount(), cancellationToken).ConfigureAwait(false);
        var authorization = await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeAuthorization, authorizationUrl, cancellationToken).ConfigureAwait(false);
        return (authorization with { Location = authorizationUrl }, _transport.RetryAfterOf(response));
    }

    private async Task<AcmeCertificateChain> DownloadOneAsync(Uri url, CancellationToken cancellationToken)
    {
        using var response = await _transport.PostAsync(url, null, _accountKey, RequireAccount(), cancellationToken, accept: "application/pem-certificate-chain").ConfigureAwait(false);
        var pem = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            throw new AcmeProtocolException($"The CA's certificate at {url.AbsolutePath} is not a PEM chain.");
        }

        var alternates = new List<Uri>();
        if (response.Headers.TryGetValues("Link", out var links))
        {
            foreach (var link in LinkHeader.Parse(links))
            {
                if (link.Relation == "alternate")
                {
                    alternates.Add(Absolute(url, link.Target));
                }
            }
        }

        return new AcmeCertificateChain(pem, alternates);
    }

    private static bool ChainMatches(string pem, string preferredChain)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(pem);
        try
        {
            if (certificates.Count == 0)
            {
                return false;
            }

            var top = certificates[^1];
            return string.Equals(top.GetNameInfo(X509NameType.SimpleName, forIssuer: true), preferredChain, StringComparison.OrdinalIgnoreCase)
                || string.Equals(top.GetNameInfo(X509NameType.SimpleName, forIssuer: false), preferredChain, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }
        }
    }

    private async Task<AcmeAccount> ReadAccountAsync(HttpResponseMessage response, Uri requestUri, CancellationToken cancellationToken)
    {
        var location = response.Headers.Location ?? throw new AcmeProtocolException("The CA answered the account request without a Location header.");
        var account = await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeAccount, requestUri, cancellationToken).ConfigureAwait(false);
        var url = Absolute(requestUri, location);
        _accountUrl = url;
        return account with { Location = url, Created = response.StatusCode == HttpStatusCode.Created };
    }

    private Uri RequireAccount() => AccountUrl
        ?? throw new InvalidOperationException("No account URL: call CreateAccountAsync or FindAccountAsync first, or pass AccountUrl when creating the client.");

    private async Task<TimeSpan> PollDelayAsync(TimeSpan? retryAfter, TimeSpan delay, CancellationToken cancellationToken)
    {
        var wait = retryAfter is { } asked ? TimeSpan.FromTicks(Math.Clamp(asked.Ticks, _options.PollInitialDelay.Ticks, _options.MaxRetryAfter.Ticks)) : delay;
        var started = _time.GetTimestamp();
        await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        _metrics.PollWait.Record(_time.GetElapsedTime(started).TotalSeconds);
        return TimeSpan.FromTicks(Math.Min((long)(delay.Ticks * 1.5), _options.PollMaxDelay.Ticks));
    }

    private static Uri Absolute(Uri baseUri, Uri location) => location.IsAbsoluteUri ? location : new Uri(baseUri, location);

    private static partial class Log
    {
        [LoggerMessage(3, LogLevel.Warning, "The CA offered no chain ending at '{PreferredChain}'; using its default chain.")]
        public static partial void PreferredChainNotOffered(ILogger logger, string preferredChain);
    }
}
