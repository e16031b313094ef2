using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>
/// Accounts (RFC 8555 §7.3): newAccount bound to a device by External Account Binding (key ID = the device ID,
/// MAC key = the device secret), reading and deactivating an account, and key change.
/// </summary>
internal sealed partial class AcmeAccountResources(
    IDeviceAcmeAccountStore accounts,
    IDeviceAuthenticator authenticator,
    IAuditEventStore events,
    TimeProvider time,
    IOptionsMonitor<AcmeServerOptions> options,
    ILogger<AcmeAccountResources> logger)
{
    public async Task<AcmeResult> NewAccountAsync(AcmeCall call, CancellationToken cancellationToken)
    {
        if (call.Jws.PayloadObject() is not { } payload)
        {
            return AcmeResult.Of(AcmeProblem.Malformed("The newAccount payload is not a JSON object."));
        }

        if (await accounts.FindByKeyAsync(call.Key.Thumbprint, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            // The key's holder asks again (RFC 8555 §7.3.1): its account, whatever binding it sends.
            return existing.Status != DeviceAcmeAccountStatus.Valid ? AcmeResult.Of(AcmeProblem.Unauthorized("This key's account is deactivated."))
                : !await call.UseNonceAsync(cancellationToken).ConfigureAwait(false) ? AcmeResult.ReplayedNonce
                : Account(call.Urls, existing, 200);
        }

        if (payload.TryGetProperty("onlyReturnExisting", out var onlyExisting) && onlyExisting.ValueKind == JsonValueKind.True)
        {
            return AcmeResult.Of(AcmeProblem.AccountDoesNotExist("No account has this key."));
        }

        if (!payload.TryGetProperty("externalAccountBinding", out var binding) || binding.ValueKind != JsonValueKind.Object)
        {
            return AcmeResult.Of(AcmeProblem.ExternalAccountRequired(
                "Every account here belongs to a device: send External Account Binding with the device ID as key ID and the device secret as MAC key (HS256)."));
        }

        var (deviceId, refusal) = await CheckBindingAsync(call, binding, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return refusal;
        }

        if (!await call.UseNonceAsync(cancellationToken).ConfigureAwait(false))
        {
            return AcmeResult.ReplayedNonce;
        }

        // A device has a few accounts at most: a reset device makes a new key, and its oldest account makes room.
        var held = await accounts.ListByDeviceAsync(deviceId!, cancellationToken).ConfigureAwait(false);
        foreach (var oldest in held.Take(Math.Max(0, held.Count - options.CurrentValue.MaxAccountsPerDevice + 1)))
        {
            await accounts.DeleteAsync(oldest.Id, cancellationToken).ConfigureAwait(false);
        }

        var account = new DeviceAcmeAccount
        {
            Id = AcmeUrls.NewId(),
            DeviceId = deviceId!,
            Jwk = call.Key.CanonicalJson,
            KeyThumbprint = call.Key.Thumbprint,
            Status = DeviceAcmeAccountStatus.Valid,
            CreatedAt = time.GetUtcNow(),
        };
        if (!await accounts.AddAsync(account, cancellationToken).ConfigureAwait(false))
        {
            var raced = await accounts.FindByKeyAsync(call.Key.Thumbprint, cancellationToken).ConfigureAwait(false);
            return raced is null ? AcmeResult.Of(AcmeProblem.Unavailable("The account could not be stored; try again.", TimeSpan.FromSeconds(5))) : Account(call.Urls, raced, 200);
        }

        await AuditAsync(account, AuditEventTypes.AcmeAccountCreated, $"Account {account.Id}, key {account.KeyThumbprint}.", cancellationToken).ConfigureAwait(false);
        Log.Created(logger, account.Id, account.DeviceId);
        return Account(call.Urls, account, 201) with { Location = call.Urls.Account(account.Id) };
    }

    /// <summary>The device the External Account Binding names, when its MAC is the device secret's (RFC 8555 §7.3.4).</summary>
    private async Task<(string? DeviceId, AcmeResult? Refusal)> CheckBindingAsync(AcmeCall call, JsonElement binding, CancellationToken cancellationToken)
    {
        if (JwsMessage.Read(System.Text.Encoding.UTF8.GetBytes(binding.GetRawText()), out var error) is not { } eab)
        {
            return (null, AcmeResult.Of(AcmeProblem.Malformed("externalAccountBinding: " + error)));
        }

        if (eab.Algorithm != "HS256" || eab.HasJwk || eab.Nonce is not null)
        {
            return (null, AcmeResult.Of(AcmeProblem.Malformed("externalAccountBinding must be an HS256 JWS with kid and url and no nonce or jwk.")));
        }

        if (!AcmeUrls.Same(eab.Url, call.Request))
        {
            return (null, AcmeResult.Of(AcmeProblem.Unauthorized($"externalAccountBinding's url must be {call.Request.Url.AbsoluteUri}.")));
        }

        using (var boundKey = eab.PayloadObject() is { } jwk ? AccountKey.Read(jwk, out _) : null)
        {
            if (boundKey?.Thumbprint != call.Key.Thumbprint)
            {
                return (null, AcmeResult.Of(AcmeProblem.Malformed("externalAccountBinding's payload must be the account key (the outer jwk).")));
            }
        }

        var deviceId = eab.KeyId ?? string.Empty;
        var authentication = await authenticator.VerifyHmacSha256Async(deviceId, eab.SigningInput, eab.Signature, cancellationToken).ConfigureAwait(false);
        switch (authentication.Outcome)
        {
            case DeviceAuthenticationOutcome.Authenticated:
                return (authentication.Device!.DeviceId, null);
            case DeviceAuthenticationOutcome.Disabled:
                return (null, AcmeResult.Of(AcmeProblem.Unauthorized("The device is disabled.")));
            case DeviceAuthenticationOutcome.SecretNotKept:
                return (null, AcmeResult.Of(AcmeProblem.Unauthorized(
                    "This device was made before its secret was kept for External Account Binding: rotate its secret once (admin API, or the device's own rotation) and bind with the new one.")));
            default:
                Log.BindingRefused(logger, LogValue(deviceId));
                return (null, AcmeResult.Of(AcmeProblem.Unauthorized("The External Account Binding does not verify: its key ID must be the device ID and its MAC key the device secret.") with
                {
                    FailedDeviceId = DeviceNames.IsValidDeviceId(deviceId) ? deviceId : null,
                }));
        }
    }

    /// <summary>POST to the account's URL: read it (POST-as-GET or an update), or deactivate it.</summary>
    public async Task<AcmeResult> AccountAsync(AcmeCall call, CancellationToken cancellationToken)
    {
        var account = call.Account!;
        if (call.Request.ResourceId != account.Id)
        {
            return AcmeResult.Of(AcmeProblem.Unauthorized("An account is read or changed with its own key."));
        }

        if (call.Jws.IsPostAsGet)
        {
            return Account(call.Urls, account, 200);
        }

        if (call.Jws.PayloadObject() is not { } payload)
        {
            return AcmeResult.Of(AcmeProblem.Malformed("The account update is not a JSON object."));
        }

        switch (AcmeJson.String(payload, "status"))
        {
            case null:
                return Account(call.Urls, account, 200); // contact changes: nothing kept, nothing to change
            case "deactivated":
                account.Status = DeviceAcmeAccountStatus.Deactivated;
                await accounts.UpdateAsync(account, cancellationToken).ConfigureAwait(false);
                await AuditAsync(account, AuditEventTypes.AcmeAccountDeactivated, $"Account {account.Id}, by its holder.", cancellationToken).ConfigureAwait(false);
                return Account(call.Urls, account, 200);
            case var other:
                return AcmeResult.Of(AcmeProblem.Malformed($"An account's status can only be changed to 'deactivated', not '{other}'."));
        }
    }

    /// <summary>Key change (RFC 8555 §7.3.5): the inner JWS, signed by the new key, names the account and its old key.</summary>
    public async Task<AcmeResult> KeyChangeAsync(AcmeCall call, CancellationToken cancellationToken)
    {
        var account = call.Account!;
        if (JwsMessage.Read(call.Jws.Payload, out var error) is not { } inner)
        {
            return AcmeResult.Of(AcmeProblem.Malformed("The key change's inner JWS: " + error));
        }

        if (!inner.HasJwk || inner.KeyId is not null || inner.Nonce is not null || !AcmeUrls.Same(inner.Url, call.Request))
        {
            return AcmeResult.Of(AcmeProblem.Malformed("The inner JWS carries the new key in jwk, the key-change URL as url, and no kid or nonce."));
        }

        using var newKey = AccountKey.Read(inner.Jwk, out var keyError);
        if (newKey is null)
        {
            return AcmeResult.Of(AcmeProblem.BadPublicKey(keyError!));
        }

        if (inner.Algorithm is not { } algorithm || !newKey.Accepts(algorithm) || !newKey.Verify(algorithm, inner.SigningInput, inner.Signature))
        {
            return AcmeResult.Of(AcmeProblem.Malformed("The inner JWS does not verify with the new key."));
        }

        using var oldKey = inner.PayloadObject() is { } change && AcmeJson.String(change, "account") == call.Urls.Account(account.Id).AbsoluteUri
            && change.TryGetProperty("oldKey", out var old) ? AccountKey.Read(old, out _) : null;
        if (oldKey?.Thumbprint != account.KeyThumbprint)
        {
            return AcmeResult.Of(AcmeProblem.Malformed("The inner payload must name this account and its current key as oldKey."));
        }

        if (await accounts.FindByKeyAsync(newKey.Thumbprint, cancellationToken).ConfigureAwait(false) is { } other)
        {
            return AcmeResult.Of(AcmeProblem.Conflict("Another account has the new key.", call.Urls.Account(other.Id)));
        }

        account.Jwk = newKey.CanonicalJson;
        account.KeyThumbprint = newKey.Thumbprint;
        try
        {
            await accounts.UpdateAsync(account, cancellationToken).ConfigureAwait(false);
        }
        catch (ConcurrencyConflictException)
        {
            return AcmeResult.Of(AcmeProblem.Conflict("The account changed meanwhile, or another account took the new key.", call.Urls.Account(account.Id)));
        }

        await AuditAsync(account, AuditEventTypes.AcmeAccountKeyChanged, $"Account {account.Id}, new key {account.KeyThumbprint}.", cancellationToken).ConfigureAwait(false);
        return Account(call.Urls, account, 200);
    }

    private static AcmeResult Account(AcmeUrls urls, DeviceAcmeAccount account, int status) => AcmeResult.Json(status, AcmeJson.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("status", account.Status == DeviceAcmeAccountStatus.Valid ? "valid" : "deactivated");
        writer.WriteStartArray("contact");
        writer.WriteEndArray();
        writer.WriteEndObject();
    })) with { Location = urls.Account(account.Id) };

    private Task AuditAsync(DeviceAcmeAccount account, string type, string details, CancellationToken cancellationToken)
        => events.AppendAsync(new AuditEvent { Timestamp = time.GetUtcNow(), DeviceId = account.DeviceId, Actor = "acme:" + account.Id, Type = type, Details = details }, cancellationToken);

    /// <summary>A client-chosen key ID, safe for a log line.</summary>
    private static string LogValue(string value) => value.Length <= 64 && DeviceNames.IsValidDeviceId(value) ? value : "(not a device ID)";

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "ACME account {AccountId} made for device {DeviceId}.")]
        public static partial void Created(ILogger logger, string accountId, string deviceId);

        [LoggerMessage(2, LogLevel.Information, "ACME External Account Binding refused for {DeviceId}: not the device's secret.")]
        public static partial void BindingRefused(ILogger logger, string deviceId);
    }
}
