using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>Fails start-up, not the first device call, when a seam nothing can work without is missing.</summary>
internal sealed class RequiredSeamsValidator(IServiceProviderIsService services) : IValidateOptions<DeviceProvisioningOptions>
{
    private const string StoresFix = "call UseEntityFrameworkStores<TContext>() (or register your own stores)";

    private static readonly (Type Seam, string Fix)[] s_required =
    [
        (typeof(ICertificateIssuer), "call UsePrivateCaIssuer() or UseAcme(...) on the builder returned by AddDeviceProvisioning()"),
        .. ProvisioningStores.Required.Select(store => (store, StoresFix)),
    ];

    public ValidateOptionsResult Validate(string? name, DeviceProvisioningOptions options)
    {
        var missing = s_required
            .Where(r => !services.IsService(r.Seam))
            .Select(r => $"No {r.Seam.Name} is registered: {r.Fix}.")
            .ToList();
        return missing.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(missing);
    }
}
