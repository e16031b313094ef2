using System.Buffers.Text;
using Sndctl.Provisioning.Acme.Internal;

namespace Sndctl.Provisioning.Acme;

/// <summary>Orders, authorizations and challenges (RFC 8555 §7.4, §7.5), with polling that honours Retry-After.</summary>
public sealed partial class AcmeClient
{
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

        using var response = await PostAsAccountAsync(directory.NewOrder, payload, cancellationToken).ConfigureAwait(false);
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
        using var response = await PostAsAccountAsync(challengeUrl, "{}"u8.ToArray(), cancellationToken).ConfigureAwait(false);
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
        using var response = await PostAsAccountAsync(finalize, payload, cancellationToken).ConfigureAwait(false);
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

    private async Task<(AcmeOrder Order, TimeSpan? RetryAfter)> GetOrderWithRetryAfterAsync(Uri orderUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(orderUrl);
        using var response = await PostAsAccountAsync(orderUrl, null, cancellationToken).ConfigureAwait(false);
        var order = await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeOrder, orderUrl, cancellationToken).ConfigureAwait(false);
        return (order with { Location = orderUrl }, _transport.RetryAfterOf(response));
    }

    private async Task<(AcmeAuthorization Authorization, TimeSpan? RetryAfter)> GetAuthorizationWithRetryAfterAsync(Uri authorizationUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authorizationUrl);
        using var response = await PostAsAccountAsync(authorizationUrl, null, cancellationToken).ConfigureAwait(false);
        var authorization = await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeAuthorization, authorizationUrl, cancellationToken).ConfigureAwait(false);
        return (authorization with { Location = authorizationUrl }, _transport.RetryAfterOf(response));
    }
}
