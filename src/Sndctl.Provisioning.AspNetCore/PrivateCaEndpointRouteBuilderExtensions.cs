using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.AspNetCore;
using Sndctl.Provisioning.AspNetCore.Internal;
using Sndctl.Provisioning.AspNetCore.Internal.PrivateCa;
using Sndctl.Provisioning.Core;

namespace Microsoft.AspNetCore.Routing;

/// <summary>Maps the private CA's HTTP endpoints.</summary>
public static class PrivateCaEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the private CA under <c>/api/v1</c>: <c>GET ca/root.pem</c> (the root, for clients to embed),
    /// the CRLs <c>GET ca/crl/{devices|webhook|private_server}.crl</c>, and the private-IP CSR service
    /// <c>POST csr</c> (limited per client address) and <c>GET csr/{request_id}</c>. Needs
    /// <c>AddPrivateCsrService()</c> (and so a CSR request store); start-up fails with the missing call otherwise.
    /// </summary>
    public static RouteGroupBuilder MapPrivateCa(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var isService = endpoints.ServiceProvider.GetRequiredService<IServiceProviderIsService>();
        if (!isService.IsService(typeof(IPrivateCaFiles)) || !isService.IsService(typeof(ICsrService)))
        {
            throw new InvalidOperationException("MapPrivateCa() serves the private CSR service: call AddDeviceProvisioning(...).AddPrivateCsrService() first.");
        }

        if (!isService.IsService(typeof(ICsrRequestStore)) || !isService.IsService(typeof(IRateLimitStore)))
        {
            throw new InvalidOperationException("MapPrivateCa() needs a CSR request store and a rate-limit store for /api/v1/csr: call UseEntityFrameworkStores<TContext>() (or register ICsrRequestStore and IRateLimitStore).");
        }

        var group = endpoints.MapGroup("/api/v1");
        group.WithTags("Private CA");
        group.MapGet("/ca/root.pem", CsrEndpoints.RootAsync)
            .WithName("GetPrivateCaRoot")
            .WithSummary("The private CA's root certificate (PEM).")
            .Produces<string>(StatusCodes.Status200OK, CsrEndpoints.PemContentType);
        group.MapGet("/ca/crl/{file}", CsrEndpoints.CrlAsync)
            .WithName("GetPrivateCaCrl")
            .WithSummary("The CRL of the device-issuing CA (devices.crl) or of the webhook or private_server intermediate (DER).")
            .Produces(StatusCodes.Status200OK, contentType: CsrEndpoints.CrlContentType);
        group.MapPost("/csr", CsrEndpoints.SubmitAsync)
            .WithName("SubmitCsr")
            .WithSummary("Submit a CSR for a private IP address; answers 202 with the request ID and its status.")
            .Accepts<CsrSubmitRequest>("application/json")
            .Produces<CsrResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/csr/{request_id}", ([FromRoute(Name = "request_id")] string requestId, ICsrService service, CancellationToken cancellationToken) => CsrEndpoints.GetAsync(requestId, service, cancellationToken))
            .WithName("GetCsr")
            .WithSummary("A CSR request's status; the certificate (leaf, then intermediate) once approved.")
            .Produces<CsrResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    /// <summary>
    /// Maps the CSR admin endpoints under <c>/api/admin/csr</c>: <c>GET ?status=&amp;page=&amp;pageSize=</c>,
    /// <c>POST {id}/approve</c>, <c>POST {id}/deny</c> (<c>{"reason"}</c>), <c>POST {id}/revoke</c>,
    /// closed to everyone but callers with an admin API key (<c>Authorization: Bearer</c>, the keys of
    /// <c>AddAspNetCore()</c>, failures throttled). Mapping them without <c>AddAspNetCore()</c> fails at
    /// start-up rather than serving them open.
    /// </summary>
    public static RouteGroupBuilder MapPrivateCaAdmin(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        _ = endpoints.ServiceProvider.GetService<AdminApiKeyAuthenticator>()
            ?? throw new InvalidOperationException("MapPrivateCaAdmin() serves admin endpoints and needs the admin API keys: call AddDeviceProvisioning(...).AddAspNetCore(o => o.AdminApiKeys.Add(...)). With authorization of your own instead, call MapPrivateCaAdminWithoutAdminKeys() and secure the group it returns.");
        var group = MapAdminGroup(endpoints);
        group.RequireAuthorization(ProvisioningAdminDefaults.Policy);
        group.WithMetadata(AdminKeyMetadata.Instance);
        group.ProducesProblem(StatusCodes.Status401Unauthorized);
        return group;
    }

    /// <summary>
    /// UNSAFE unless you secure the result: maps the CSR admin endpoints of <see cref="MapPrivateCaAdmin"/>
    /// with no authentication at all, for an app that puts its own in front (for example
    /// <c>.RequireAuthorization("FleetAdmins")</c> on the returned group).
    /// </summary>
    public static RouteGroupBuilder MapPrivateCaAdminWithoutAdminKeys(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return MapAdminGroup(endpoints);
    }

    private static RouteGroupBuilder MapAdminGroup(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/admin/csr");
        group.WithTags("Private CA admin");
        group.MapGet("/", CsrEndpoints.ListAsync).WithName("ListCsrs").WithMetadata(new AdminScopeMetadata(AdminScope.Read, AdminScope.Csr)).ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapPost("/{requestId}/approve", CsrEndpoints.ApproveAsync).WithName("ApproveCsr").WithMetadata(new AdminScopeMetadata(AdminScope.Csr))
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/{requestId}/deny", CsrEndpoints.DenyAsync).WithName("DenyCsr").WithMetadata(new AdminScopeMetadata(AdminScope.Csr))
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/{requestId}/revoke", CsrEndpoints.RevokeAsync).WithName("RevokeCsrCertificate").WithMetadata(new AdminScopeMetadata(AdminScope.Csr))
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }
}
