using System.Buffers.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AcmeServer.Internal;

/// <summary>
/// Orders (RFC 8555 §7.4): for exactly the device's hostname, with one authorization valid from the start (the
/// account's External Account Binding is the proof); finalize enters the device API's own path
/// (<see cref="IDeviceProvisioningService.RequestCertificateAsync"/>: one issuance at a time per device, the lease,
/// the journal, the CA budget and its queue, fallback CAs, the per-device limits). While that runs or the device
/// waits in the queue the order is <c>processing</c> with Retry-After, and each poll of it asks again (joining the
/// issuance under way, or finding the certificate stored).
/// </summary>
internal sealed class AcmeOrderResources(
    IDeviceAcmeOrderStore orders,
    ICertificateStore certificates,
    IDeviceProvisioningService provisioning,
    TimeProvider time,
    IOptionsMonitor<AcmeServerOptions> options)
{
    /// <summary>
    /// How long a poll of a processing order waits for the issuance: long enough for the pipeline to say where the
    /// device stands (issued, or queued with its ETA), short enough to answer a poll promptly.
    /// </summary>
    private static readonly TimeSpan PollWait = TimeSpan.FromSeconds(1);

    public async Task<AcmeResult> NewOrderAsync(AcmeCall call, CancellationToken cancellationToken)
    {
        var device = call.Device!;
        if (call.Jws.PayloadObject() is not { } payload)
        {
            return AcmeResult.Of(AcmeProblem.Malformed("The newOrder payload is not a JSON object."));
        }

        if (!payload.TryGetProperty("identifiers", out var identifiers) || identifiers.ValueKind != JsonValueKind.Array || identifiers.GetArrayLength() == 0)
        {
            return AcmeResult.Of(AcmeProblem.Malformed("newOrder needs identifiers: [{\"type\":\"dns\",\"value\":\"" + device.Hostname + "\"}]."));
        }

        foreach (var identifier in identifiers.EnumerateArray())
        {
            var (type, value) = identifier.ValueKind == JsonValueKind.Object ? (AcmeJson.String(identifier, "type"), AcmeJson.String(identifier, "value")) : (null, null);
            if (type != "dns" || !string.Equals(value, device.Hostname, StringComparison.OrdinalIgnoreCase))
            {
                return AcmeResult.Of(AcmeProblem.RejectedIdentifier($"This account may order only its device's hostname, {device.Hostname} (one dns identifier)."));
            }
        }

        if (identifiers.GetArrayLength() > 1)
        {
            return AcmeResult.Of(AcmeProblem.RejectedIdentifier($"Order {device.Hostname} once: one dns identifier."));
        }

        if (payload.TryGetProperty("notBefore", out _) || payload.TryGetProperty("notAfter", out _))
        {
            return AcmeResult.Of(AcmeProblem.Malformed("notBefore and notAfter are not supported: the certificate's validity is the CA's."));
        }

        // A device keeps a few undecided orders at most: a new one beyond ends the oldest.
        var now = time.GetUtcNow();
        var open = await orders.ListOpenAsync(device.DeviceId, now, cancellationToken).ConfigureAwait(false);
        foreach (var oldest in open.Take(Math.Max(0, open.Count - options.CurrentValue.MaxOpenOrdersPerDevice + 1)))
        {
            Decide(oldest, AcmeProblem.Malformed("A newer order of the device replaced this one."));
            await TryUpdateAsync(oldest, cancellationToken).ConfigureAwait(false);
        }

        var order = new DeviceAcmeOrder
        {
            Id = AcmeUrls.NewId(),
            AccountId = call.Account!.Id,
            DeviceId = device.DeviceId,
            Hostname = device.Hostname,
            Status = DeviceAcmeOrderStatus.Ready,
            CreatedAt = now,
            Expires = now + options.CurrentValue.OrderLifetime,
        };
        await orders.AddAsync(order, cancellationToken).ConfigureAwait(false);
        return Order(call.Urls, order, 201) with { Location = call.Urls.Order(order.Id) };
    }

    /// <summary>POST-as-GET of an order: a processing one is asked about again first.</summary>
    public async Task<AcmeResult> OrderAsync(AcmeCall call, CancellationToken cancellationToken)
    {
        var (order, refusal) = await FindAsync(call, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return refusal;
        }

        TimeSpan? retryAfter = null;
        if (order!.Status == DeviceAcmeOrderStatus.Processing)
        {
            (order, retryAfter, refusal) = await ProgressAsync(order, order.Csr!, PollWait, cancellationToken).ConfigureAwait(false);
        }

        return refusal ?? Order(call.Urls, order, 200) with { RetryAfter = retryAfter };
    }

    public async Task<AcmeResult> FinalizeAsync(AcmeCall call, CancellationToken cancellationToken)
    {
        var (order, refusal) = await FindAsync(call, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return refusal;
        }

        if (order!.Status != DeviceAcmeOrderStatus.Ready)
        {
            return order.Status == DeviceAcmeOrderStatus.Invalid
                ? AcmeResult.Of(AcmeProblem.OrderNotReady("The order is invalid: place a new one."))
                : await OrderAsync(call, cancellationToken).ConfigureAwait(false); // finalized already: where it stands
        }

        var csrText = call.Jws.PayloadObject() is { } payload ? AcmeJson.String(payload, "csr") : null;
        if (csrText is null || !Base64Url.IsValid(csrText) || csrText.EndsWith('=') || csrText.Length > 16_384)
        {
            return AcmeResult.Of(AcmeProblem.BadCsr("finalize takes {\"csr\": the CSR's DER in base64url}."));
        }

        TimeSpan? retryAfter;
        (order, retryAfter, refusal) = await ProgressAsync(order, Base64Url.DecodeFromChars(csrText), options.CurrentValue.FinalizeWait, cancellationToken).ConfigureAwait(false);
        return refusal ?? Order(call.Urls, order, 200) with { RetryAfter = retryAfter };
    }

    /// <summary>
    /// Asks the pipeline for the certificate of <paramref name="csr"/> and moves the order on: valid with it,
    /// processing while it comes (with the Retry-After to poll again), or a problem that leaves the order as it was
    /// (a CSR the rules refuse, the device's re-issuance limit) or ends it (the CA refused).
    /// </summary>
    private async Task<(DeviceAcmeOrder Order, TimeSpan? RetryAfter, AcmeResult? Refusal)> ProgressAsync(DeviceAcmeOrder order, byte[] csr, TimeSpan wait, CancellationToken cancellationToken)
    {
        var result = await provisioning.RequestCertificateAsync(order.DeviceId, csr, wait, cancellationToken).ConfigureAwait(false);
        TimeSpan? retryAfter = null;
        switch (result.Outcome)
        {
            case ProvisioningOutcome.Current or ProvisioningOutcome.Issued:
                order.Status = DeviceAcmeOrderStatus.Valid;
                order.CertificateId = result.Certificate!.CertificateId;
                order.Csr = null;
                break;
            case ProvisioningOutcome.Pending or ProvisioningOutcome.Queued or ProvisioningOutcome.Unavailable:
                order.Status = DeviceAcmeOrderStatus.Processing;
                order.Csr = csr;
                retryAfter = result.RetryAfter ?? options.CurrentValue.ProcessingRetryAfter;
                if (result.Outcome == ProvisioningOutcome.Pending)
                {
                    retryAfter = options.CurrentValue.ProcessingRetryAfter;
                }

                break;
            case ProvisioningOutcome.Invalid:
                return (order, null, AcmeResult.Of(AcmeProblem.BadCsr(result.Detail ?? "The CSR is not accepted.")));
            case ProvisioningOutcome.IssuanceLimited:
                return (order, null, AcmeResult.Of(AcmeProblem.RateLimited(result.Detail ?? "The device asked for too many new certificates lately.", result.RetryAfter ?? TimeSpan.FromHours(1))));
            case ProvisioningOutcome.Disabled or ProvisioningOutcome.Unauthorized:
                return (order, null, AcmeResult.Of(AcmeProblem.Unauthorized(result.Outcome == ProvisioningOutcome.Disabled ? "The device is disabled." : "The device was deleted.")));
            default:
                Decide(order, AcmeProblem.ServerInternal(result.Detail ?? "The certificate authority refused to issue this certificate."));
                break;
        }

        if (!await TryUpdateAsync(order, cancellationToken).ConfigureAwait(false))
        {
            // Another poll moved it first: what it says now.
            order = await orders.FindAsync(order.Id, cancellationToken).ConfigureAwait(false) ?? order;
        }

        return (order, order.Status == DeviceAcmeOrderStatus.Processing ? retryAfter ?? options.CurrentValue.ProcessingRetryAfter : null, null);
    }

    public async Task<AcmeResult> AuthorizationAsync(AcmeCall call, CancellationToken cancellationToken)
    {
        var (order, refusal) = await FindAsync(call, cancellationToken).ConfigureAwait(false);
        return refusal ?? AcmeResult.Json(200, AcmeJson.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("status", "valid");
            writer.WriteString("expires", AcmeJson.Time(order!.Expires));
            WriteIdentifier(writer, "identifier", order.Hostname);
            writer.WriteStartArray("challenges");
            WriteChallenge(writer, call.Urls, order);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }));
    }

    /// <summary>The authorization's one challenge, valid already: answering it changes nothing.</summary>
    public async Task<AcmeResult> ChallengeAsync(AcmeCall call, CancellationToken cancellationToken)
    {
        var (order, refusal) = await FindAsync(call, cancellationToken).ConfigureAwait(false);
        return refusal ?? AcmeResult.Json(200, AcmeJson.Write(writer => WriteChallenge(writer, call.Urls, order!))) with
        {
            Links = [(call.Urls.Authorization(order!.Id), "up")],
        };
    }

    /// <summary>POST-as-GET of a certificate of the account's device: the chain, leaf first.</summary>
    public async Task<AcmeResult> CertificateAsync(AcmeCall call, CancellationToken cancellationToken)
    {
        var certificate = Guid.TryParseExact(call.Request.ResourceId, "N", out var id) ? await certificates.FindAsync(id, cancellationToken).ConfigureAwait(false) : null;
        if (certificate is null || certificate.DeviceId != call.Device!.DeviceId)
        {
            return AcmeResult.Of(AcmeProblem.NotFound("No such certificate of this account's device."));
        }

        return new AcmeResult(200, System.Text.Encoding.ASCII.GetBytes(certificate.CertificatePem.Trim() + "\n"), AcmeJson.PemChainContentType);
    }

    /// <summary>The order (or authorization, challenge) of the URL, when the account's.</summary>
    private async Task<(DeviceAcmeOrder? Order, AcmeResult? Refusal)> FindAsync(AcmeCall call, CancellationToken cancellationToken)
    {
        var order = AcmeUrls.IsId(call.Request.ResourceId) ? await orders.FindAsync(call.Request.ResourceId!, cancellationToken).ConfigureAwait(false) : null;
        if (order is null || order.AccountId != call.Account!.Id)
        {
            return (null, AcmeResult.Of(AcmeProblem.NotFound("No such order of this account.")));
        }

        if (order.Status is DeviceAcmeOrderStatus.Ready or DeviceAcmeOrderStatus.Processing && order.Expires <= time.GetUtcNow())
        {
            Decide(order, AcmeProblem.Malformed("The order expired before its certificate was issued."));
        }

        return (order, null);
    }

    private static void Decide(DeviceAcmeOrder order, AcmeProblem problem)
    {
        order.Status = DeviceAcmeOrderStatus.Invalid;
        order.Csr = null;
        order.ErrorType = problem.Type;
        order.ErrorDetail = problem.Detail;
    }

    private async Task<bool> TryUpdateAsync(DeviceAcmeOrder order, CancellationToken cancellationToken)
    {
        try
        {
            await orders.UpdateAsync(order, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConcurrencyConflictException)
        {
            return false;
        }
    }

    private static AcmeResult Order(AcmeUrls urls, DeviceAcmeOrder order, int status) => AcmeResult.Json(status, AcmeJson.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("status", order.Status switch
        {
            DeviceAcmeOrderStatus.Ready => "ready",
            DeviceAcmeOrderStatus.Processing => "processing",
            DeviceAcmeOrderStatus.Valid => "valid",
            _ => "invalid",
        });
        writer.WriteString("expires", AcmeJson.Time(order.Expires));
        writer.WriteStartArray("identifiers");
        WriteIdentifier(writer, null, order.Hostname);
        writer.WriteEndArray();
        writer.WriteStartArray("authorizations");
        writer.WriteStringValue(urls.Authorization(order.Id).AbsoluteUri);
        writer.WriteEndArray();
        writer.WriteString("finalize", urls.Finalize(order.Id).AbsoluteUri);
        if (order.CertificateId is { } certificate && order.Status == DeviceAcmeOrderStatus.Valid)
        {
            writer.WriteString("certificate", urls.Certificate(certificate).AbsoluteUri);
        }

        if (order.Status == DeviceAcmeOrderStatus.Invalid && order.ErrorType is not null)
        {
            writer.WritePropertyName("error");
            new AcmeProblem(order.ErrorType, 400, order.ErrorDetail ?? "").WriteTo(writer);
        }

        writer.WriteEndObject();
    }));

    private static void WriteIdentifier(Utf8JsonWriter writer, string? name, string hostname)
    {
        if (name is null)
        {
            writer.WriteStartObject();
        }
        else
        {
            writer.WriteStartObject(name);
        }

        writer.WriteString("type", "dns");
        writer.WriteString("value", hostname);
        writer.WriteEndObject();
    }

    private static void WriteChallenge(Utf8JsonWriter writer, AcmeUrls urls, DeviceAcmeOrder order)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "dns-01");
        writer.WriteString("url", urls.Challenge(order.Id).AbsoluteUri);
        writer.WriteString("status", "valid");
        writer.WriteString("token", order.Id);
        writer.WriteString("validated", AcmeJson.Time(order.CreatedAt));
        writer.WriteEndObject();
    }
}
