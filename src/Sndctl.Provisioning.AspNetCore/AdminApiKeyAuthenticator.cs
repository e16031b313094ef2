using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.AspNetCore.Internal;

namespace Sndctl.Provisioning.AspNetCore;

/// <summary>
/// Checks an admin API key the way the admin API does (SHA-256 digests compared in constant time
/// against every configured key, failures throttled per client address), for other ways in such as a
/// browser portal's sign-in. Knows the actor name the audit log uses for a key.
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

    /// <summary>How long <paramref name="clientAddress"/> must wait after too many failures; null when it may try.</summary>
    public TimeSpan? RetryAfter(string? clientAddress) => _throttle.RetryAfter(null, clientAddress);

    /// <summary>The actor (<c>admin:&lt;key id&gt;</c>) of a configured key, or null (and a failure counted).</summary>
    public string? Authenticate(string? presented, string? clientAddress)
    {
        var actor = presented is { Length: > 0 and <= 1024 } ? Match(presented, _options.CurrentValue.AdminApiKeys) : null;
        if (actor is null)
        {
            _throttle.RecordFailure(null, clientAddress);
        }

        return actor;
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
