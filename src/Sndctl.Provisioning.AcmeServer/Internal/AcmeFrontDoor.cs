using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>
/// The ACME front door (<see cref="IAcmeServer"/>): routes a request to its resource after the checks every POST
/// goes through (RFC 8555 §6.2–6.5): content type, a flattened JWS, its <c>url</c> is the request's, its nonce is
/// ours and fresh, its algorithm is accepted, its signature verifies with the account key (<c>kid</c>) or, for
/// newAccount only, the <c>jwk</c>; the account is valid and its device neither deleted nor disabled. Every
/// failure is a problem document; an exception is logged and answered 503 with Retry-After.
/// </summary>
internal sealed partial class AcmeFrontDoor(
    IServiceProvider services,
    AcmeNonces nonces,
    IDeviceAcmeAccountStore accounts,
    IDeviceStore devices,
    IAcmeNonceStore usedNonces,
    AcmeServerMetrics metrics,
    ILogger<AcmeFrontDoor> logger) : IAcmeServer
{
    public async Task<AcmeServerResponse> HandleAsync(AcmeServerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var urls = new AcmeUrls(request.BaseUrl);
        AcmeResult result;
        try
        {
            result = request.Resource switch
            {
                AcmeServerResource.Directory => request.Method is "GET" or "HEAD" ? Directory(urls) : NotAllowed("GET"),
                AcmeServerResource.NewNonce => request.Method switch
                {
                    "HEAD" => new AcmeResult(200, [], null) { NoStore = true },
                    "GET" => new AcmeResult(204, [], null) { NoStore = true },
                    _ => NotAllowed("HEAD or GET"),
                },
                AcmeServerResource.RenewalInfo => request.Method is "GET"
                    ? await services.GetRequiredService<AcmeRenewalInfo>().GetAsync(request.ResourceId, cancellationToken).ConfigureAwait(false)
                    : NotAllowed("GET"),
                _ => request.Method is "POST" ? await PostAsync(request, urls, cancellationToken).ConfigureAwait(false) : NotAllowed("POST"),
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            Log.Failed(logger, request.Resource.ToString(), ex);
            result = AcmeResult.Of(AcmeProblem.Unavailable("The server cannot answer now; try again after Retry-After.", TimeSpan.FromSeconds(30)));
        }

        metrics.Answered(request.Resource, result.Status);
        string? nonce = null;
        if (request.Resource != AcmeServerResource.Directory)
        {
            try
            {
                nonce = await nonces.IssueAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.Failed(logger, "nonce", ex);
            }
        }

        return new AcmeServerResponse(result.Status, result.Body, result.ContentType)
        {
            Nonce = nonce,
            Location = result.Location,
            RetryAfter = result.RetryAfter,
            Links = [.. result.Links, (urls.Directory, "index")],
            FailedDeviceId = result.FailedDeviceId,
            NoStore = result.NoStore,
        };
    }

    private async Task<AcmeResult> PostAsync(AcmeServerRequest request, AcmeUrls urls, CancellationToken cancellationToken)
    {
        if (request.ContentType?.Split(';')[0].Trim().Equals(AcmeJson.JoseContentType, StringComparison.OrdinalIgnoreCase) != true)
        {
            return AcmeResult.Of(AcmeProblem.UnsupportedMediaType($"Send the JWS as {AcmeJson.JoseContentType}."));
        }

        if (JwsMessage.Read(request.Body.Span, out var error) is not { } jws)
        {
            return AcmeResult.Of(AcmeProblem.Malformed(error!));
        }

        if (!AcmeUrls.Same(jws.Url, request))
        {
            return AcmeResult.Of(AcmeProblem.Unauthorized($"The JWS url must be this request's URL, {request.Url.AbsoluteUri}."));
        }

        if (await nonces.CheckAsync(jws.Nonce, cancellationToken).ConfigureAwait(false) is not { } nonceExpires)
        {
            return AcmeResult.Of(AcmeProblem.BadNonce("The nonce is not one of this server's, or it expired: use the Replay-Nonce of this answer."));
        }

        if (jws.Algorithm is not { } algorithm || !AcmeJson.Algorithms.Contains(algorithm))
        {
            return AcmeResult.Of(AcmeProblem.BadSignatureAlgorithm($"The JWS algorithm '{jws.Algorithm}' is not accepted: use ES256, ES384 or RS256."));
        }

        var (key, account, device, refusal) = await KeyOfAsync(request.Resource, jws, urls, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return refusal;
        }

        using (key)
        {
            if (!key!.Accepts(algorithm))
            {
                return AcmeResult.Of(AcmeProblem.BadSignatureAlgorithm($"The algorithm {algorithm} does not fit the account key."));
            }

            if (!key.Verify(algorithm, jws.SigningInput, jws.Signature))
            {
                return AcmeResult.Of(AcmeProblem.Malformed("The JWS signature does not verify with the account key."));
            }

            var call = new AcmeCall(request, urls, jws, key, account, device, jws.Nonce!, nonceExpires, usedNonces);
            if (account is not null && !await call.UseNonceAsync(cancellationToken).ConfigureAwait(false))
            {
                return AcmeResult.ReplayedNonce;
            }

            var resources = services.GetRequiredService<AcmeAccountResources>();
            var orders = services.GetRequiredService<AcmeOrderResources>();
            return request.Resource switch
            {
                AcmeServerResource.NewAccount => await resources.NewAccountAsync(call, cancellationToken).ConfigureAwait(false),
                AcmeServerResource.Account => await resources.AccountAsync(call, cancellationToken).ConfigureAwait(false),
                AcmeServerResource.KeyChange => await resources.KeyChangeAsync(call, cancellationToken).ConfigureAwait(false),
                AcmeServerResource.NewOrder => await orders.NewOrderAsync(call, cancellationToken).ConfigureAwait(false),
                AcmeServerResource.Order => await orders.OrderAsync(call, cancellationToken).ConfigureAwait(false),
                AcmeServerResource.Finalize => await orders.FinalizeAsync(call, cancellationToken).ConfigureAwait(false),
                AcmeServerResource.Authorization => await orders.AuthorizationAsync(call, cancellationToken).ConfigureAwait(false),
                AcmeServerResource.Challenge => await orders.ChallengeAsync(call, cancellationToken).ConfigureAwait(false),
                AcmeServerResource.Certificate => await orders.CertificateAsync(call, cancellationToken).ConfigureAwait(false),
                AcmeServerResource.RevokeCertificate => await services.GetRequiredService<AcmeRevocation>().RevokeAsync(call, cancellationToken).ConfigureAwait(false),
                _ => AcmeResult.Of(AcmeProblem.NotFound("No such resource.")),
            };
        }
    }

    /// <summary>The key that must have signed: the new account's <c>jwk</c> for newAccount, else the account's of <c>kid</c>.</summary>
    private async Task<(AccountKey? Key, DeviceAcmeAccount? Account, Device? Device, AcmeResult? Refusal)> KeyOfAsync(AcmeServerResource resource, JwsMessage jws, AcmeUrls urls, CancellationToken cancellationToken)
    {
        if (resource == AcmeServerResource.NewAccount)
        {
            if (!jws.HasJwk || jws.KeyId is not null)
            {
                return (null, null, null, AcmeResult.Of(AcmeProblem.Malformed("newAccount is signed with the new account's key in jwk (and no kid).")));
            }

            return AccountKey.Read(jws.Jwk, out var keyError) is { } newKey
                ? (newKey, null, null, null)
                : (null, null, null, AcmeResult.Of(AcmeProblem.BadPublicKey(keyError!)));
        }

        if (jws.HasJwk || jws.KeyId is null)
        {
            return (null, null, null, AcmeResult.Of(AcmeProblem.Malformed(resource == AcmeServerResource.RevokeCertificate
                ? "Revoke with the account (kid) that ordered the certificate; a request signed with the certificate's own key is not accepted."
                : "Sign with kid, the account's URL (only newAccount carries a jwk).")));
        }

        var account = urls.AccountIdOf(jws.KeyId) is { } accountId ? await accounts.FindAsync(accountId, cancellationToken).ConfigureAwait(false) : null;
        if (account is null)
        {
            return (null, null, null, AcmeResult.Of(AcmeProblem.AccountDoesNotExist("No account has this kid: register with newAccount (and External Account Binding).")));
        }

        if (account.Status != DeviceAcmeAccountStatus.Valid)
        {
            return (null, null, null, AcmeResult.Of(AcmeProblem.Unauthorized("The account is deactivated.")));
        }

        var device = await devices.FindAsync(account.DeviceId, cancellationToken).ConfigureAwait(false);
        if (device is null || device.Status == DeviceStatus.Disabled)
        {
            return (null, null, null, AcmeResult.Of(AcmeProblem.Unauthorized(device is null ? "The account's device was deleted." : "The account's device is disabled.")));
        }

        return (AccountKey.Read(account.Jwk), account, device, null);
    }

    private static AcmeResult Directory(AcmeUrls urls) => AcmeResult.Json(200, AcmeJson.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("newNonce", urls.NewNonce.AbsoluteUri);
        writer.WriteString("newAccount", urls.NewAccount.AbsoluteUri);
        writer.WriteString("newOrder", urls.NewOrder.AbsoluteUri);
        writer.WriteString("revokeCert", urls.RevokeCertificate.AbsoluteUri);
        writer.WriteString("keyChange", urls.KeyChange.AbsoluteUri);
        writer.WriteString("renewalInfo", urls.RenewalInfo.AbsoluteUri);
        writer.WriteStartObject("meta");
        writer.WriteBoolean("externalAccountRequired", true);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }));

    private static AcmeResult NotAllowed(string allowed) => AcmeResult.Of(AcmeProblem.MethodNotAllowed($"Use {allowed} here."));

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "The ACME front door could not answer a {Resource} request.")]
        public static partial void Failed(ILogger logger, string resource, Exception exception);
    }
}
