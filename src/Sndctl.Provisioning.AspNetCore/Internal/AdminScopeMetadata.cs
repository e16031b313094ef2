namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>The admin scopes of which an endpoint needs one (<see cref="AdminScopeAuthorizationHandler"/>); without it a read needs Read and a change Admin.</summary>
internal sealed class AdminScopeMetadata(params AdminScope[] scopes)
{
    public IReadOnlyList<AdminScope> Scopes { get; } = scopes;
}
