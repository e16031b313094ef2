using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.PrivateCa.Internal;

namespace Microsoft.AspNetCore.Routing;

/// <summary>Maps the private CA's HTTP endpoints.</summary>
public static class PrivateCaEndpointRouteBuilderExtensions
{
    /// <summary>Content type of PEM answers.</summary>
    public const string PemContentType = "application/x-pem-file";

    /// <summary>
    /// Maps <c>GET /api/v1/ca/root.pem</c> (the root certificate, for clients to embed). Requires
    /// <c>UsePrivateCa()</c>.
    /// </summary>
    public static RouteGroupBuilder MapPrivateCa(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetService<CertificateAuthority>() is null)
        {
            throw new InvalidOperationException("MapPrivateCa() needs the private CA: call AddDeviceProvisioning(...).UsePrivateCa() first.");
        }

        var group = endpoints.MapGroup("/api/v1");
        group.WithTags("Private CA");
        group.MapGet("/ca/root.pem", async (CertificateAuthority authority, HttpContext context, CancellationToken cancellationToken) =>
        {
            var ca = await authority.GetAsync(cancellationToken);
            context.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Text(ca.RootPem, PemContentType);
        })
        .WithName("GetPrivateCaRoot")
        .WithSummary("The private CA's root certificate (PEM).");
        return group;
    }
}
