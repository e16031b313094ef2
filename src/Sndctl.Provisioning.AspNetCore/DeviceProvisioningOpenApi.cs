using Microsoft.OpenApi;
using Sndctl.Provisioning.AspNetCore.Internal;

namespace Microsoft.AspNetCore.OpenApi;

/// <summary>The security schemes of the device and admin APIs in an OpenAPI document.</summary>
public static class DeviceProvisioningOpenApi
{
    /// <summary>The scheme of device operations: the device secret in the <c>X-Device-Secret</c> header (the device ID is in the body).</summary>
    public const string DeviceSecretScheme = "deviceSecret";

    /// <summary>The scheme of admin operations: <c>Authorization: Bearer &lt;admin API key&gt;</c>.</summary>
    public const string AdminKeyScheme = "adminKey";

    /// <summary>
    /// Declares <see cref="DeviceSecretScheme"/> and <see cref="AdminKeyScheme"/> in the document and names them on the
    /// operations that need them (the device API's <c>/api/v1</c> routes, the admin API and <c>MapPrivateCaAdmin()</c>),
    /// so a client generated from the document authenticates:
    /// <c>builder.Services.AddOpenApi(o => o.AddDeviceProvisioningSecuritySchemes());</c>
    /// </summary>
    public static OpenApiOptions AddDeviceProvisioningSecuritySchemes(this OpenApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
            document.Components.SecuritySchemes[DeviceSecretScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = DeviceEndpoints.SecretHeader,
                Description = "The device secret (made when the device was created, or replaced by POST /api/v1/secret); the device ID goes in the body.",
            };
            document.Components.SecuritySchemes[AdminKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An admin API key (Provisioning:Admin:ApiKeys).",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            var scheme = metadata.OfType<AdminKeyMetadata>().Any() ? AdminKeyScheme
                : metadata.OfType<DeviceCredentialsMetadata>().Any() ? DeviceSecretScheme
                : null;
            if (scheme is not null)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [] });
            }

            return Task.CompletedTask;
        });
        return options;
    }
}
