using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>Handlers of <c>POST /api/register</c>, <c>POST /api/renew</c> and <c>POST /api/addresses</c>; their result types are their OpenAPI description.</summary>
internal static class DeviceEndpoints
{
    public const string SecretHeader = "X-Device-Secret";

    public static async Task<Results<Ok<ProvisionResponse>, JsonHttpResult<PendingResponse>, ProblemHttpResult>> RegisterAsync(
        HttpContext context,
        IDeviceProvisioningService provisioning,
        FailedAuthenticationThrottle throttle,
        IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, ProvisioningJsonContext.Default.RegisterRequest, options.CurrentValue.MaxDeviceRequestBodySize).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        return await ProvisionAsync(context, provisioning, throttle, body!.DeviceId, hostname: null, body.Csr, body.Addresses, body.Resolution, renew: false).ConfigureAwait(false);
    }

    public static async Task<Results<Ok<ProvisionResponse>, JsonHttpResult<PendingResponse>, ProblemHttpResult>> RenewAsync(
        HttpContext context,
        IDeviceProvisioningService provisioning,
        FailedAuthenticationThrottle throttle,
        IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, ProvisioningJsonContext.Default.RenewRequest, options.CurrentValue.MaxDeviceRequestBodySize).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrEmpty(body!.Hostname))
        {
            return Problems.BadRequest("hostname is required: the device's own hostname, <deviceId>.<base domain>.");
        }

        return await ProvisionAsync(context, provisioning, throttle, body.DeviceId, body.Hostname, body.Csr, body.Addresses, body.Resolution, renew: true).ConfigureAwait(false);
    }

    public static async Task<Results<Ok<AddressesResponse>, ProblemHttpResult>> UpdateAddressesAsync(
        HttpContext context,
        IDeviceProvisioningService provisioning,
        FailedAuthenticationThrottle throttle,
        IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, ProvisioningJsonContext.Default.AddressesRequest, options.CurrentValue.MaxDeviceRequestBodySize).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (CheckDeviceId(body!.DeviceId) is { } invalid)
        {
            return invalid;
        }

        if (body.Addresses is null)
        {
            return Problems.BadRequest("addresses is required: the device's LAN addresses, [] for none.");
        }

        if (!TryParseResolution(body.Resolution, out var resolution))
        {
            return InvalidResolution();
        }

        if (SecretOf(context) is not { } secret)
        {
            return Failed(context, throttle, body.DeviceId!, $"Send the device secret in the {SecretHeader} header.");
        }

        var result = await provisioning.UpdateAddressesAsync(body.DeviceId!, secret, body.Addresses, resolution, context.RequestAborted).ConfigureAwait(false);
        return result.Outcome switch
        {
            ProvisioningOutcome.Current => TypedResults.Ok(new AddressesResponse(body.DeviceId!, result.Hostname!, Texts(result.Addresses))),
            ProvisioningOutcome.Unauthorized => Failed(context, throttle, body.DeviceId!, "Unknown device or wrong secret."),
            ProvisioningOutcome.Disabled => Problems.Forbidden("device-disabled", result.Detail ?? "The device is disabled."),
            ProvisioningOutcome.Invalid => Problems.BadRequest(result.Detail ?? "The request is invalid."),
            ProvisioningOutcome.AddressChangesLimited => Problems.AddressChangeLimit(context, result.RetryAfter ?? TimeSpan.FromMinutes(5), result.Detail ?? "Too many address changes for this device."),
            _ => throw new InvalidOperationException($"Unhandled outcome {result.Outcome}."),
        };
    }

    public static async Task<Results<Ok<DeviceSecretResponse>, ProblemHttpResult>> RotateSecretAsync(
        HttpContext context,
        IDeviceProvisioningService provisioning,
        FailedAuthenticationThrottle throttle,
        IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, ProvisioningJsonContext.Default.DeviceSecretRequest, options.CurrentValue.MaxDeviceRequestBodySize).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (CheckDeviceId(body!.DeviceId) is { } invalid)
        {
            return invalid;
        }

        if (SecretOf(context) is not { } secret)
        {
            return Failed(context, throttle, body.DeviceId!, $"Send the device secret in the {SecretHeader} header.");
        }

        var result = await provisioning.RotateSecretAsync(body.DeviceId!, secret, context.RequestAborted).ConfigureAwait(false);
        if (result.Outcome == ProvisioningOutcome.Current)
        {
            // The new secret is in this answer only: no proxy or client cache may keep it.
            context.Response.Headers.CacheControl = "no-store";
            return TypedResults.Ok(new DeviceSecretResponse(result.DeviceId!, result.Hostname!, result.Secret!));
        }

        return result.Outcome switch
        {
            ProvisioningOutcome.Unauthorized => Failed(context, throttle, body.DeviceId!, "Unknown device or wrong secret."),
            ProvisioningOutcome.Disabled => Problems.Forbidden("device-disabled", result.Detail ?? "The device is disabled."),
            ProvisioningOutcome.Invalid => Problems.BadRequest(result.Detail ?? "The request is invalid."),
            _ => throw new InvalidOperationException($"Unhandled outcome {result.Outcome}."),
        };
    }

    private static ProblemHttpResult InvalidResolution() => Problems.BadRequest("resolution must be \"ok\", \"blocked\" or \"other\": what the device saw resolving its own hostname on its LAN.");

    /// <summary>The optional <c>resolution</c> field: <c>ok</c>, <c>blocked</c> or <c>other</c> (null when absent).</summary>
    private static bool TryParseResolution(string? text, out DeviceNameResolution? resolution)
    {
        resolution = null;
        if (text is null)
        {
            return true;
        }

        if (text == "unknown" || !ResolutionNames.TryParse(text, out var parsed))
        {
            return false;
        }

        resolution = parsed;
        return true;
    }

    private static ProblemHttpResult? CheckDeviceId(string? deviceId)
        => string.IsNullOrEmpty(deviceId) ? Problems.BadRequest("deviceId is required.")
            : !DeviceNames.IsValidDeviceId(deviceId) ? Problems.BadRequest("deviceId must be a lower-case DNS label: letters a-z, digits and inner hyphens, at most 63 characters.")
            : null;

    private static string? SecretOf(HttpContext context)
    {
        var secrets = context.Request.Headers[SecretHeader];
        var secret = secrets.Count == 1 ? secrets[0] : null;
        return string.IsNullOrEmpty(secret) || secret.Length > DeviceNames.MaxSecretLength ? null : secret;
    }

    private static IReadOnlyList<string> Texts(IReadOnlyList<System.Net.IPAddress>? addresses) => addresses is null ? [] : [.. addresses.Select(a => a.ToString())];

    private static async Task<Results<Ok<ProvisionResponse>, JsonHttpResult<PendingResponse>, ProblemHttpResult>> ProvisionAsync(
        HttpContext context,
        IDeviceProvisioningService provisioning,
        FailedAuthenticationThrottle throttle,
        string? deviceId,
        string? hostname,
        string? csr,
        List<string?>? addresses,
        string? resolutionText,
        bool renew)
    {
        if (CheckDeviceId(deviceId) is { } invalid)
        {
            return invalid;
        }

        if (!TryParseResolution(resolutionText, out var resolution))
        {
            return InvalidResolution();
        }

        // Credentials first, throttle second: a right secret is answered whatever strangers tried
        // with this device ID or from this network; only further wrong ones are refused with 429.
        if (SecretOf(context) is not { } secret)
        {
            return Failed(context, throttle, deviceId!, $"Send the device secret in the {SecretHeader} header.");
        }

        var request = new ProvisioningRequest(deviceId!, secret, hostname, csr, addresses) { NameResolution = resolution };
        var result = renew
            ? await provisioning.RenewAsync(request, context.RequestAborted).ConfigureAwait(false)
            : await provisioning.RegisterAsync(request, context.RequestAborted).ConfigureAwait(false);
        if (result.Outcome == ProvisioningOutcome.Unauthorized)
        {
            return Failed(context, throttle, deviceId!, "Unknown device or wrong secret.");
        }

        return ToResult(context, result, deviceId!);
    }

    private static ProblemHttpResult Failed(HttpContext context, FailedAuthenticationThrottle throttle, string deviceId, string detail)
        => throttle.DeviceFailed(deviceId, context.Connection.RemoteIpAddress) is { } wait
            ? Problems.TooManyRequests(context, wait)
            : Problems.Unauthorized(detail);

    private static Results<Ok<ProvisionResponse>, JsonHttpResult<PendingResponse>, ProblemHttpResult> ToResult(HttpContext context, ProvisioningResult result, string deviceId) => result.Outcome switch
    {
        ProvisioningOutcome.Current or ProvisioningOutcome.Issued => Ok(result.Certificate!),
        ProvisioningOutcome.Pending or ProvisioningOutcome.Queued => Accepted(context, result, deviceId),
        ProvisioningOutcome.Unauthorized => Problems.Unauthorized("Unknown device or wrong secret."),
        ProvisioningOutcome.Disabled => Problems.Forbidden("device-disabled", result.Detail ?? "The device is disabled."),
        ProvisioningOutcome.HostnameMismatch => Problems.Forbidden("hostname-mismatch", result.Detail ?? "The hostname is not this device's hostname."),
        ProvisioningOutcome.Invalid => Problems.BadRequest(result.Detail ?? "The request is invalid."),
        ProvisioningOutcome.Unavailable => Problems.Unavailable(context, result.RetryAfter ?? TimeSpan.FromSeconds(60), result.Detail ?? "Try again later."),
        ProvisioningOutcome.Failed => Problems.IssuanceFailed(result.Detail ?? "The certificate authority refused to issue."),
        ProvisioningOutcome.AddressChangesLimited => Problems.AddressChangeLimit(context, result.RetryAfter ?? TimeSpan.FromMinutes(5), result.Detail ?? "Too many address changes for this device."),
        ProvisioningOutcome.IssuanceLimited => Problems.DeviceIssuanceLimit(context, result.RetryAfter ?? TimeSpan.FromHours(1), result.Detail ?? "Too many early re-issuances for this device."),
        _ => throw new InvalidOperationException($"Unhandled outcome {result.Outcome}."),
    };

    private static Ok<ProvisionResponse> Ok(ProvisionedCertificate certificate) => TypedResults.Ok(new ProvisionResponse(
        certificate.DeviceId,
        certificate.Hostname,
        certificate.CertificatePem,
        certificate.PrivateKeyPem,
        certificate.NotBefore,
        certificate.NotAfter,
        certificate.RenewAfter,
        Texts(certificate.Addresses)));

    private static JsonHttpResult<PendingResponse> Accepted(HttpContext context, ProvisioningResult result, string deviceId)
    {
        var retryAfter = result.RetryAfter ?? TimeSpan.FromSeconds(5);
        Problems.SetRetryAfter(context, retryAfter);
        return TypedResults.Json(
            new PendingResponse(
                deviceId,
                result.Outcome == ProvisioningOutcome.Queued ? "queued" : "pending",
                (int)Math.Ceiling(retryAfter.TotalSeconds),
                result.Detail ?? "Call again after Retry-After.",
                result.QueuePosition,
                result.EstimatedAt),
            ProvisioningJsonContext.Default.PendingResponse,
            statusCode: StatusCodes.Status202Accepted);
    }
}
