namespace Sndctl.Provisioning.AspNetCore;

/// <summary>
/// The admin API keys as ASP.NET Core authentication and authorization: the scheme that turns
/// <c>Authorization: Bearer &lt;admin key&gt;</c> into a principal with scope claims, and the policies the admin
/// endpoints require. An app composes them with its own: <c>RequireAuthorization(ProvisioningAdminDefaults.PolicyFor(AdminScope.Read))</c>
/// on its endpoints, or its own definition of <see cref="Policy"/> (say, admin keys or an OIDC group whose users get
/// <see cref="ScopeClaimType"/> claims) registered before or after <c>AddAspNetCore()</c>. In a policy of several
/// schemes, list <see cref="AuthenticationScheme"/> last: each scheme answers a challenge in turn, and this one's
/// problem+json body comes after the others have set their status (a scheme that redirected keeps its redirect).
/// </summary>
public static class ProvisioningAdminDefaults
{
    /// <summary>The authentication scheme of the admin API keys.</summary>
    public const string AuthenticationScheme = "SndctlAdminKey";

    /// <summary>The claim type carrying a scope (<c>admin</c>, <c>read</c>, <c>devices</c>, <c>csr</c>, <c>metrics</c>), one claim per scope.</summary>
    public const string ScopeClaimType = "sndctl.admin_scope";

    /// <summary>
    /// The policy of the admin endpoints: the admin-key scheme, and a scope the endpoint needs — the one it names
    /// (<c>RequireProvisioningAdmin(AdminScope)</c>), else <c>read</c> for GET and HEAD and <c>admin</c> for changes.
    /// </summary>
    public const string Policy = "Sndctl.Provisioning.Admin";

    /// <summary>The policy for one scope (<c>Sndctl.Provisioning.Admin.read</c>...), for an app's own endpoints.</summary>
    public static string PolicyFor(AdminScope scope) => Policy + "." + scope.ToString().ToLowerInvariant();
}

/// <summary>
/// Needs a principal with a <see cref="ProvisioningAdminDefaults.ScopeClaimType"/> claim for <see cref="Scope"/> (or
/// <c>admin</c>); without a scope, the one the endpoint names (or read for GET/HEAD, admin otherwise).
/// </summary>
public sealed class AdminScopeRequirement : Microsoft.AspNetCore.Authorization.IAuthorizationRequirement
{
    /// <summary>A requirement for the endpoint's own scope.</summary>
    public AdminScopeRequirement()
    {
    }

    /// <summary>A requirement for <paramref name="scope"/>.</summary>
    public AdminScopeRequirement(AdminScope scope) => Scope = scope;

    /// <summary>The scope needed, or <see langword="null"/> for the endpoint's.</summary>
    public AdminScope? Scope { get; }
}
