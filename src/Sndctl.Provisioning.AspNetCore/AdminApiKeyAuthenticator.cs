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
        var match = presented is { Length: > 0 and <= 1024 } ? Match(presented, Keys(_options.CurrentValue)) : null;
        return match is { } key
            ? new AdminKeyCheck(ActorFor(key.Key), null) { Scopes = key.Scopes }
            : new AdminKeyCheck(null, _throttle.AdminFailed(clientAddress));
    }

    /// <summary>Whether <paramref name="actor"/> still names a configured key (a key removed from configuration signs its sessions out).</summary>
    public bool IsCurrent(string? actor) => actor is not null && Keys(_options.CurrentValue).Any(k => ActorFor(k.Key) == actor);

    /// <summary>The scopes the key named <paramref name="actor"/> has now (a portal session follows configuration changes); empty when no key has that name.</summary>
    public IReadOnlyList<AdminScope> ScopesOf(string? actor)
        => actor is null ? [] : [.. Keys(_options.CurrentValue).Where(k => ActorFor(k.Key) == actor).SelectMany(k => k.Scopes).Distinct()];

    /// <summary>Every configured key with its scopes: <see cref="DeviceProvisioningAspNetCoreOptions.AdminApiKeys"/> are <see cref="AdminScope.Admin"/>.</summary>
    private static IEnumerable<(string Key, IReadOnlyList<AdminScope> Scopes)> Keys(DeviceProvisioningAspNetCoreOptions options)
        => options.AdminApiKeys.Select(k => (k, (IReadOnlyList<AdminScope>)s_admin))
            .Concat(options.AdminKeys.Select(k => (k.Key, (IReadOnlyList<AdminScope>)[.. k.Scopes.Distinct()])));

    private static readonly AdminScope[] s_admin = [AdminScope.Admin];

    /// <summary>The audit name of a key: <c>admin:</c> and the first 8 hex digits of its SHA-256.</summary>
    internal static string ActorFor(string key) => "admin:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8];

    /// <summary>Compares SHA-256 digests in constant time against every key, so neither a match nor its position shows in the timing.</summary>
    private static (string Key, IReadOnlyList<AdminScope> Scopes)? Match(string presented, IEnumerable<(string Key, IReadOnlyList<AdminScope> Scopes)> keys)
    {
        Span<byte> presentedDigest = stackalloc byte[32];
        Span<byte> keyDigest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), presentedDigest);
        (string Key, IReadOnlyList<AdminScope> Scopes)? matched = null;
        foreach (var key in keys)
        {
            SHA256.HashData(Encoding.UTF8.GetBytes(key.Key), keyDigest);
            if (CryptographicOperations.FixedTimeEquals(presentedDigest, keyDigest))
            {
                matched = key;
            }
        }

        return matched;
    }
}
