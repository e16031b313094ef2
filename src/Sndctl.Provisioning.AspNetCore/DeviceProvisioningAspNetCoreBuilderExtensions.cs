using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.AspNetCore;
using Sndctl.Provisioning.AspNetCore.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers what the HTTP endpoints need.</summary>
public static class DeviceProvisioningAspNetCoreBuilderExtensions
{
    /// <summary>
    /// Adds the services behind <c>MapDeviceProvisioning()</c> and <c>MapDeviceProvisioningAdmin()</c>:
    /// admin keys, body limits, failed-authentication throttling and ProblemDetails.
    /// </summary>
    public static DeviceProvisioningBuilder AddAspNetCore(this DeviceProvisioningBuilder builder, Action<DeviceProvisioningAspNetCoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<DeviceProvisioningAspNetCoreOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeviceProvisioningAspNetCoreOptions>, DeviceProvisioningAspNetCoreOptionsValidator>());
        services.TryAddSingleton<FailedAuthenticationThrottle>();
        services.AddMetrics();
        services.TryAddSingleton<HttpMetrics>();
        AddAdminAuthentication(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExceptionHandler, BadRequestExceptionHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExceptionHandler, StoreUnavailableExceptionHandler>());
        services.TryAddSingleton(sp => new AdminApiKeyAuthenticator(sp.GetRequiredService<IOptionsMonitor<DeviceProvisioningAspNetCoreOptions>>(), sp.GetRequiredService<FailedAuthenticationThrottle>()));
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            // Answers made by the framework (status code pages) carry no detail; give them one.
            ctx.ProblemDetails.Detail ??= ctx.ProblemDetails.Status switch
            {
                404 => "There is no endpoint at this path; see /openapi/v1.json.",
                405 => "This endpoint does not accept that HTTP method.",
                415 => "Send the body as application/json.",
                _ => null,
            };
        });
        return builder;
    }

    /// <summary>
    /// As <see cref="AddAspNetCore(DeviceProvisioningBuilder, Action{DeviceProvisioningAspNetCoreOptions}?)"/>, with
    /// <see cref="DeviceProvisioningAspNetCoreOptions"/> bound from <paramref name="configuration"/> (unknown keys refused);
    /// <paramref name="configure"/> runs after the binding (for example to add admin keys kept elsewhere).
    /// </summary>
    public static DeviceProvisioningBuilder AddAspNetCore(this DeviceProvisioningBuilder builder, IConfiguration configuration, Action<DeviceProvisioningAspNetCoreOptions>? configure = null)
    {
        AddAspNetCore(builder).BindOptions<DeviceProvisioningAspNetCoreOptions>(configuration);
        if (configure is not null)
        {
            builder.Services.PostConfigure(configure);
        }

        return builder;
    }

    /// <summary>
    /// The admin-key scheme and the admin policies (<see cref="ProvisioningAdminDefaults"/>), once; a policy of the
    /// same name the app defines (before or after) is the app's, and the admin endpoints then follow it.
    /// </summary>
    private static void AddAdminAuthentication(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.AspNetCore.Authorization.IAuthorizationHandler, AdminScopeAuthorizationHandler>());
        if (services.Any(d => d.ServiceType == typeof(AdminApiKeyAuthenticationHandler)))
        {
            return;
        }

        services.AddRouting(); // the endpoints (and the authorization policy cache) stand on routing
        services.AddAuthentication().AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, AdminApiKeyAuthenticationHandler>(
            ProvisioningAdminDefaults.AuthenticationScheme, "Sndctl.Provisioning admin API key", null);
        services.AddAuthorization(o =>
        {
            Add(o, ProvisioningAdminDefaults.Policy, new AdminScopeRequirement());
            foreach (var scope in Enum.GetValues<AdminScope>())
            {
                Add(o, ProvisioningAdminDefaults.PolicyFor(scope), new AdminScopeRequirement(scope));
            }
        });

        static void Add(Microsoft.AspNetCore.Authorization.AuthorizationOptions options, string name, AdminScopeRequirement requirement)
        {
            if (options.GetPolicy(name) is null)
            {
                options.AddPolicy(name, p => p.AddAuthenticationSchemes(ProvisioningAdminDefaults.AuthenticationScheme).RequireAuthenticatedUser().AddRequirements(requirement));
            }
        }
    }
}
