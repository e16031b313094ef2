
namespace Sndctl.Provisioning.AspNetCore;

/// <summary>The result of <see cref="AdminApiKeyAuthenticator.Authenticate"/>.</summary>
/// <param name="Actor">The audit actor of the matching key; <see langword="null"/> when the key is wrong.</param>
/// <param name="RetryAfter">For a wrong key: how long this client network's failures are refused (answer 429), or <see langword="null"/> (answer 401).</param>
public readonly record struct AdminKeyCheck(string? Actor, TimeSpan? RetryAfter)
{
    /// <summary>Whether the key was right.</summary>
    public bool Succeeded => Actor is not null;

    /// <summary>What the key may do (empty for a wrong key).</summary>
    public IReadOnlyList<AdminScope> Scopes { get; init; } = [];

    /// <summary>Whether the key may do what <paramref name="scope"/> covers (an <see cref="AdminScope.Admin"/> key may do everything).</summary>
    public bool Allows(AdminScope scope) => Scopes.Contains(AdminScope.Admin) || Scopes.Contains(scope);
}
