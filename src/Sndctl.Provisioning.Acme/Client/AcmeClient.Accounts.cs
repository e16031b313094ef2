using System.Net;
using Sndctl.Provisioning.Acme.Internal;

namespace Sndctl.Provisioning.Acme;

/// <summary>The account resources (RFC 8555 §7.3).</summary>
public sealed partial class AcmeClient
{
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
        using var response = await PostAsAccountAsync(keyChange, inner, cancellationToken).ConfigureAwait(false);
        _accountKey = newKey;
    }

    private async Task<AcmeAccount> ReadAccountAsync(HttpResponseMessage response, Uri requestUri, CancellationToken cancellationToken)
    {
        var location = response.Headers.Location ?? throw new AcmeProtocolException("The CA answered the account request without a Location header.");
        var account = await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeAccount, requestUri, cancellationToken).ConfigureAwait(false);
        var url = Absolute(requestUri, location);
        _accountUrl = url;
        return account with { Location = url, Created = response.StatusCode == HttpStatusCode.Created };
    }


    /// <summary>
    /// A POST signed with the account (<c>kid</c>). An <c>unauthorized</c> answer is checked against the account
    /// resource itself: when the CA no longer knows the account, or it is deactivated or revoked, the answer is an
    /// <see cref="AcmeAccountInvalidException"/> (register again); otherwise the <c>unauthorized</c> stands.
    /// </summary>
    private async Task<HttpResponseMessage> PostAsAccountAsync(Uri url, byte[]? payload, CancellationToken cancellationToken, string accept = "application/json")
    {
        var account = RequireAccount();
        try
        {
            return await _transport.PostAsync(url, payload, _accountKey, account, cancellationToken, accept).ConfigureAwait(false);
        }
        catch (AcmeUnauthorizedException unauthorized) when (url != account)
        {
            if (await AccountStatusAsync(account, cancellationToken).ConfigureAwait(false) is "valid")
            {
                throw;
            }

            throw new AcmeAccountInvalidException(unauthorized.Problem, unauthorized.StatusCode, unauthorized.RequestUri, unauthorized.RetryAfter);
        }
    }

    /// <summary>The account's status (POST-as-GET to its URL), or <see langword="null"/> when the CA refuses to show it.</summary>
    private async Task<string?> AccountStatusAsync(Uri account, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _transport.PostAsync(account, null, _accountKey, account, cancellationToken).ConfigureAwait(false);
            return (await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeAccount, account, cancellationToken).ConfigureAwait(false)).Status;
        }
        catch (Exception ex) when (ex is AcmeUnauthorizedException or AcmeAccountDoesNotExistException)
        {
            return null;
        }
    }
}
