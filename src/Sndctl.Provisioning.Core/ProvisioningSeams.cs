namespace Sndctl.Provisioning.Core;

/// <summary>The seams one implementation at a time fills (<see cref="Microsoft.Extensions.DependencyInjection.DeviceProvisioningBuilder.UseSeam"/>).</summary>
public static class ProvisioningSeams
{
    /// <summary>The certificate issuer (<see cref="ICertificateIssuer"/>): the private CA or ACME.</summary>
    public const string Issuer = "issuer";

    /// <summary>The DNS provider (<see cref="IDnsProvider"/>): Cloudflare, Route53, the embedded server, your own.</summary>
    public const string Dns = "dns";

    /// <summary>The stores (<see cref="ProvisioningStores.All"/>): Entity Framework Core, or your own.</summary>
    public const string Stores = "stores";
}
