using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.AspNetCore.Internal;

namespace Sndctl.Provisioning.AspNetCore;

/// <summary>
/// Checks an admin API key the way the admin API does (SHA-256 digests compared in constant time
/// against every configured key), for other ways in such as a browser portal's sign-in. The key is
/// checked first: a right key is always accepted; only wrong ones are counted and, past the limit for
/// the client's network, refused with a wait. Knows the actor name the audit log uses for a key.
/// </summary>
public sealed class AdminApiKeyAuthenticator
{
    private readonly IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> _options;
    private readonly FailedAuthenticationThrottle _throttle;

    internal AdminApiKeyAuthenticator(IOptionsMonitor<DeviceProvisioningAspNetCoreOptions> options, FailedAuthenticationThrottle throttle)
    {
        _options = options;
        _throttle = throttle;
    }

    /// <summary>
    /// Checks <paramref name="presented"/>. On success the result names the actor
    /// (<c>admin:&lt;key id&gt;</c>); on failure it says whether the caller must now wait.
    /// </summary>
    public AdminKeyCheck Authenticate(string? presented, IPAddress? clientAddress)
    {
        var actor = presented is { Length: > 0 and <= 1024 } ? Match(presented, _options.CurrentValue.AdminApiKeys) : null;
        return actor is not null ? new AdminKeyCheck(actor, null) : new AdminKeyCheck(null, _throttle.AdminFailed(clientAddress));
    }

    /// <summary>Whether <paramref name="actor"/> still names a configured key (a key removed from configuration signs its sessions out).</summary>
    public bool IsCurrent(string? actor) => actor is not null && _options.CurrentValue.AdminApiKeys.Any(k => ActorFor(k) == actor);

    /// <summary>The audit name of a key: <c>admin:</c> and the first 8 hex digits of its SHA-256.</summary>
    internal static string ActorFor(string key) => "admin:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8];

    /// <summary>Compares SHA-256 digests in constant time against every key, so neither a match nor its position shows in the timing.</summary>
    private static string? Match(string presented, IList<string> keys)
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
}
