using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>
/// Admits admin calls carrying <c>Authorization: Bearer &lt;key&gt;</c> with a configured key. Keys are
/// compared as SHA-256 digests in constant time, against every key, so neither the match nor its
/// position shows in the timing. The actor recorded in audit events is a short digest of the key.
/// </summary>
internal sealed class AdminApiKeyFilter(IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> options, FailedAuthenticationThrottle throttle) : IEndpointFilter
{
    internal const string ActorItem = Sndctl.Provisioning.Core.AuditActors.HttpContextItemKey;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var client = http.Connection.RemoteIpAddress?.ToString();
        if (throttle.RetryAfter(null, client) is { } wait)
        {
            return Problems.TooManyRequests(http, wait);
        }

        var presented = BearerToken(http.Request);
        var actor = presented is null ? null : Match(presented, options.CurrentValue.AdminApiKeys);
        if (actor is null)
        {
            throttle.RecordFailure(null, client);
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Unauthorized("Send an admin API key as 'Authorization: Bearer <key>'.");
        }

        http.Items[ActorItem] = actor;
        return await next(context);
    }

    public static string ActorOf(HttpContext context) => context.Items[ActorItem] as string ?? "admin";

    /// <summary>The audit name of a key: <c>admin:</c> and the first 8 hex digits of its SHA-256.</summary>
    public static string ActorFor(string key) => "admin:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8];

    internal static string? Match(string presented, IList<string> keys)
    {
        Span<byte> presentedDigest = stackalloc byte[32];
        Span<byte> keyDigest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), presentedDigest);
        string? matched = null;
        foreach (var key in keys)
        {
            SHA256.HashData(Encoding.UTF8.GetBytes(key), keyDigest);
            if (CryptographicOperations.FixedTimeEquals(presentedDigest, keyDigest))
            {
                matched = key;
            }
        }

        return matched is null ? null : ActorFor(matched);
    }

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = value["Bearer ".Length..].Trim();
        return token.Length is 0 or > 1024 ? null : token;
    }
}
