using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.AspNetCore.Internal.AcmeServer;
using Sndctl.Provisioning.Core;

namespace Microsoft.AspNetCore.Routing;

/// <summary>Maps the ACME front door's HTTP endpoints.</summary>
public static class AcmeServerEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the ACME front door (RFC 8555) under <paramref name="prefix"/>: <c>GET directory</c> (the URL devices'
    /// ACME clients are given), <c>new-nonce</c>, <c>new-account</c>, <c>new-order</c>, <c>order/{id}</c> and its
    /// <c>finalize</c>, <c>authz/{id}</c>, <c>chall/{id}</c>, <c>cert/{id}</c>, <c>revoke-cert</c>,
    /// <c>key-change</c>, <c>account/{id}</c> and <c>GET renewal-info/{certID}</c> (RFC 9773). URLs in answers
    /// follow the request's scheme and host (as forwarded by the proxies <c>UseForwardedHeaders</c> trusts): serve it
    /// over HTTPS, as ACME clients require. Needs <c>AddAcmeServer()</c>; start-up fails with the missing call otherwise.
    /// </summary>
    public static RouteGroupBuilder MapAcmeServer(this IEndpointRouteBuilder endpoints, string prefix = "/acme")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var isService = endpoints.ServiceProvider.GetRequiredService<IServiceProviderIsService>();
        if (!isService.IsService(typeof(IAcmeServer)))
        {
            throw new InvalidOperationException("MapAcmeServer() serves the ACME front door: call AddDeviceProvisioning(...).AddAcmeServer() first.");
        }

        if (!isService.IsService(typeof(IDeviceAcmeAccountStore)) || !isService.IsService(typeof(IDeviceAcmeOrderStore)) || !isService.IsService(typeof(IAcmeNonceStore)))
        {
            throw new InvalidOperationException("MapAcmeServer() needs the front door's stores (accounts, orders, nonces): call UseEntityFrameworkStores<TContext>() (or register IDeviceAcmeAccountStore, IDeviceAcmeOrderStore and IAcmeNonceStore).");
        }

        var group = endpoints.MapGroup(prefix);
        group.WithTags("ACME front door").ExcludeFromDescription();
        var handler = new AcmeServerEndpoints(prefix);
        group.MapMethods("/directory", ["GET", "HEAD"], (HttpContext context) => handler.HandleAsync(context, AcmeServerResource.Directory, null));
        group.MapMethods("/new-nonce", ["GET", "HEAD"], (HttpContext context) => handler.HandleAsync(context, AcmeServerResource.NewNonce, null));
        group.MapPost("/new-account", (HttpContext context) => handler.HandleAsync(context, AcmeServerResource.NewAccount, null));
        group.MapPost("/account/{id}", (HttpContext context, string id) => handler.HandleAsync(context, AcmeServerResource.Account, id));
        group.MapPost("/new-order", (HttpContext context) => handler.HandleAsync(context, AcmeServerResource.NewOrder, null));
        group.MapPost("/order/{id}", (HttpContext context, string id) => handler.HandleAsync(context, AcmeServerResource.Order, id));
        group.MapPost("/order/{id}/finalize", (HttpContext context, string id) => handler.HandleAsync(context, AcmeServerResource.Finalize, id));
        group.MapPost("/authz/{id}", (HttpContext context, string id) => handler.HandleAsync(context, AcmeServerResource.Authorization, id));
        group.MapPost("/chall/{id}", (HttpContext context, string id) => handler.HandleAsync(context, AcmeServerResource.Challenge, id));
        group.MapPost("/cert/{id}", (HttpContext context, string id) => handler.HandleAsync(context, AcmeServerResource.Certificate, id));
        group.MapPost("/revoke-cert", (HttpContext context) => handler.HandleAsync(context, AcmeServerResource.RevokeCertificate, null));
        group.MapPost("/key-change", (HttpContext context) => handler.HandleAsync(context, AcmeServerResource.KeyChange, null));
        group.MapGet("/renewal-info/{id}", (HttpContext context, string id) => handler.HandleAsync(context, AcmeServerResource.RenewalInfo, id));
        return group;
    }
}
