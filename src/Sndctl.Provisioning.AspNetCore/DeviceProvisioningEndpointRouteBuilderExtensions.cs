using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.AspNetCore;
using Sndctl.Provisioning.AspNetCore.Internal;

namespace Microsoft.AspNetCore.Routing;

/// <summary>Maps the device and admin APIs.</summary>
public static class DeviceProvisioningEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the device API: <c>POST /api/v1/register</c>, <c>POST /api/v1/renew</c>, <c>POST /api/v1/addresses</c> and
    /// <c>POST /api/v1/secret</c> (a device replacing its factory secret), the unversioned <c>/api/register</c>,
    /// <c>/api/renew</c> and <c>/api/addresses</c> as aliases of the first three, <c>GET /api/health</c> and the
    /// orchestrator probes <c>GET /api/health/live</c> and <c>GET /api/health/ready</c>. The OpenAPI description lists the
    /// versioned routes with their security scheme (<see cref="Microsoft.AspNetCore.OpenApi.DeviceProvisioningOpenApi.DeviceSecretScheme"/>).
    /// Requires <c>AddDeviceProvisioning(...).AddAspNetCore()</c>.
    /// </summary>
    /// <returns>The <c>/api</c> group, to add conventions (rate limiting, CORS...); they apply to <c>/api/v1</c> too.</returns>
    public static RouteGroupBuilder MapDeviceProvisioning(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        EnsureRegistered(endpoints);
        var group = endpoints.MapGroup("/api");
        group.WithTags("Devices");

        // Firmware lives for years: the device contract is versioned, and the first routes stay as aliases.
        var v1 = group.MapGroup("/v1");
        v1.WithMetadata(DeviceCredentialsMetadata.Instance);
        MapDeviceOperations(v1, "");
        MapDeviceOperations(group, "Unversioned").ExcludeFromDescription();

        v1.MapPost("/secret", DeviceEndpoints.RotateSecretAsync)
            .WithName("RotateSecret")
            .WithSummary("A new secret for the device, e.g. at first boot to replace the factory secret; the old one works until the new one is first used.")
            .Accepts<DeviceSecretRequest>(isOptional: true, "application/json")
            .Produces<DeviceSecretResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        group.MapGet("/health", HealthEndpoint.CheckAsync)
            .WithName("Health")
            .WithSummary("Liveness: 200 when the database and the issuer answer, 503 otherwise.")
            .Produces<HealthResponse>()
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/health/live", HealthEndpoint.Live)
            .WithName("Liveness")
            .WithSummary("Liveness for orchestrators: 200 while the process answers; touches no database.")
            .Produces<HealthResponse>();
        group.MapGet("/health/ready", HealthEndpoint.ReadyAsync)
            .WithName("Readiness")
            .WithSummary("Readiness: the health checks, and 503 while the host is starting or stopping.")
            .Produces<HealthResponse>()
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    /// <summary>Register, renew and addresses under <paramref name="group"/>; endpoint names end in <paramref name="nameSuffix"/> (names are unique).</summary>
    private static RouteGroupBuilder MapDeviceOperations(RouteGroupBuilder group, string nameSuffix)
    {
        var operations = group.MapGroup("");
        operations.MapPost("/register", DeviceEndpoints.RegisterAsync)
            .WithName("Register" + nameSuffix)
            .WithSummary("Register a device and obtain its certificate.")
            .Accepts<RegisterRequest>(isOptional: true, "application/json")
            .Produces<ProvisionResponse>()
            .Produces<PendingResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        operations.MapPost("/renew", DeviceEndpoints.RenewAsync)
            .WithName("Renew" + nameSuffix)
            .WithSummary("Renew a device's certificate.")
            .Accepts<RenewRequest>(isOptional: true, "application/json")
            .Produces<ProvisionResponse>()
            .Produces<PendingResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        operations.MapPost("/addresses", DeviceEndpoints.UpdateAddressesAsync)
            .WithName("UpdateAddresses" + nameSuffix)
            .WithSummary("Replace the device's LAN addresses, published as A/AAAA records for its hostname.")
            .Accepts<AddressesRequest>(isOptional: true, "application/json")
            .Produces<AddressesResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return operations;
    }

    /// <summary>
    /// Maps the admin API under <c>/api/admin</c>, authenticated by <c>Authorization: Bearer &lt;admin API key&gt;</c>.
    /// </summary>
    /// <returns>The <c>/api/admin</c> group, to add conventions.</returns>
    public static RouteGroupBuilder MapDeviceProvisioningAdmin(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        EnsureRegistered(endpoints);
        if (endpoints.ServiceProvider.GetRequiredService<IOptions<DeviceProvisioningAspNetCoreOptions>>().Value is { AdminApiKeys.Count: 0, AdminKeys.Count: 0 })
        {
            throw new InvalidOperationException("MapDeviceProvisioningAdmin() needs at least one admin API key: set Provisioning:Admin:ApiKeys or Provisioning:Admin:Keys (or AdminApiKeys / AdminKeys in AddAspNetCore()).");
        }

        var group = endpoints.MapGroup("/api/admin");
        group.WithTags("Admin");
        group.RequireAuthorization(ProvisioningAdminDefaults.Policy);
        group.WithMetadata(AdminKeyMetadata.Instance);
        group.ProducesProblem(StatusCodes.Status401Unauthorized);

        group.MapPost("/devices", AdminEndpoints.CreateDeviceAsync).WithName("CreateDevice").WithMetadata(new AdminScopeMetadata(AdminScope.Devices))
            .Accepts<CreateDeviceRequest>(isOptional: true, "application/json").Produces<CreatedDeviceResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/devices/batch", AdminEndpoints.CreateBatchAsync).WithName("CreateDevices").WithMetadata(new AdminScopeMetadata(AdminScope.Devices))
            .Accepts<CreateBatchRequest>(isOptional: true, "application/json").Produces<BatchResponse>(StatusCodes.Status201Created, "application/json", "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/devices", AdminEndpoints.ListDevicesAsync).WithName("ListDevices")
            .Produces<PageResponse<DeviceListItem>>().ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/devices/{deviceId}", AdminEndpoints.GetDeviceAsync).WithName("GetDevice")
            .Produces<DeviceDetailsResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/devices/{deviceId}/disable", AdminEndpoints.DisableAsync).WithName("DisableDevice")
            .Produces<DeviceStatusResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/devices/{deviceId}/enable", AdminEndpoints.EnableAsync).WithName("EnableDevice")
            .Produces<DeviceStatusResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/devices/{deviceId}/secret", AdminEndpoints.RotateSecretAsync).WithName("RotateDeviceSecret")
            .Produces<SecretResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/devices/{deviceId}/revoke", AdminEndpoints.RevokeAsync).WithName("RevokeDeviceCertificate")
            .Produces<RevokeResponse>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapDelete("/devices/{deviceId}", AdminEndpoints.DeleteAsync).WithName("DeleteDevice")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/events", AdminEndpoints.ListEventsAsync).WithName("ListEvents")
            .Produces<PageResponse<EventItem>>().ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/events/export", AdminEndpoints.ExportEventsAsync).WithName("ExportEvents")
            .WithSummary("Audit events after a cursor (?after=ID, ?limit=1..10000), oldest first, as JSON lines; the Sndctl-Next-Cursor header is the next call's cursor.")
            .Produces(StatusCodes.Status200OK, contentType: "application/x-ndjson").ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/statistics", AdminEndpoints.StatisticsAsync).WithName("GetStatistics")
            .Produces<StatisticsResponse>();
        group.MapGet("/acme/budget", AdminEndpoints.AcmeBudgetAsync).WithName("GetAcmeBudget")
            .WithSummary("The CA's budgets (new certificates per registered domain) and the issuance queue.")
            .Produces<BudgetResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    /// <summary>
    /// Admits only admin calls (<c>Authorization: Bearer &lt;admin API key&gt;</c>, the keys of the admin
    /// API, with the same throttling of failures) to these endpoints, e.g.
    /// <c>app.MapPrivateCaAdmin().RequireProvisioningAdmin()</c>: the authorization policy
    /// <see cref="ProvisioningAdminDefaults.Policy"/> (the authentication and authorization middleware must run,
    /// as they do by default in a <c>WebApplication</c>).
    /// </summary>
    public static TBuilder RequireProvisioningAdmin<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.RequireAuthorization(ProvisioningAdminDefaults.Policy);
        builder.WithMetadata(AdminKeyMetadata.Instance);
        builder.ProducesProblem(StatusCodes.Status401Unauthorized);
        builder.ProducesProblem(StatusCodes.Status403Forbidden);
        return builder;
    }

    /// <summary>
    /// As <see cref="RequireProvisioningAdmin{TBuilder}(TBuilder)"/>, for keys with <paramref name="scope"/> (or
    /// <see cref="AdminScope.Admin"/>), e.g. <c>app.MapPrometheusScrapingEndpoint().RequireProvisioningAdmin(AdminScope.Metrics)</c>;
    /// a key without it is answered 403.
    /// </summary>
    public static TBuilder RequireProvisioningAdmin<TBuilder>(this TBuilder builder, AdminScope scope)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.RequireProvisioningAdmin();
        builder.WithMetadata(new AdminScopeMetadata(scope));
        return builder;
    }

    private static void EnsureRegistered(IEndpointRouteBuilder endpoints)
    {
        if (endpoints.ServiceProvider.GetService<FailedAuthenticationThrottle>() is null)
        {
            throw new InvalidOperationException("The provisioning endpoints need their services: call services.AddDeviceProvisioning(...).AddAspNetCore().");
        }
    }
}
