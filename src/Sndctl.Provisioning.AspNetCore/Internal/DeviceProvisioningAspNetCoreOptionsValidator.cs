using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.AspNetCore.Internal;

internal sealed class DeviceProvisioningAspNetCoreOptionsValidator : IValidateOptions<DeviceProvisioningAspNetCoreOptions>
{
    public ValidateOptionsResult Validate(string? name, DeviceProvisioningAspNetCoreOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.AdminApiKeys.Count; i++)
        {
            var key = options.AdminApiKeys[i];
            if (string.IsNullOrWhiteSpace(key) || key.Length < DeviceProvisioningAspNetCoreOptions.MinAdminApiKeyLength || key.Any(char.IsWhiteSpace))
            {
                failures.Add($"Provisioning:Admin:ApiKeys:{i} must be at least {DeviceProvisioningAspNetCoreOptions.MinAdminApiKeyLength} characters without spaces; make one with 'openssl rand -base64 32'.");
            }
        }

        for (var i = 0; i < options.AdminKeys.Count; i++)
        {
            var key = options.AdminKeys[i];
            if (string.IsNullOrWhiteSpace(key.Key) || key.Key.Length < DeviceProvisioningAspNetCoreOptions.MinAdminApiKeyLength || key.Key.Any(char.IsWhiteSpace))
            {
                failures.Add($"Provisioning:Admin:Keys:{i}:Key must be at least {DeviceProvisioningAspNetCoreOptions.MinAdminApiKeyLength} characters without spaces; make one with 'openssl rand -base64 32'.");
            }

            if (key.Scopes.Count == 0 || key.Scopes.Any(s => !Enum.IsDefined(s)))
            {
                failures.Add($"Provisioning:Admin:Keys:{i}:Scopes must name at least one of admin, read, devices, csr, metrics.");
            }
        }

        if (options.MaxDeviceRequestBodySize < 1024 || options.MaxAdminRequestBodySize < 1024)
        {
            failures.Add("Provisioning:Http:MaxDeviceRequestBodySize and MaxAdminRequestBodySize must be at least 1024 bytes.");
        }

        if (options.MaxFailuresPerDevice < 1 || options.MaxFailuresPerClient < 1 || options.FailureWindow <= TimeSpan.Zero)
        {
            failures.Add("Provisioning:Http:MaxFailuresPerDevice, MaxFailuresPerClient and FailureWindow must be positive.");
        }

        if (options.FailureTrackingCapacity is < 100 or > 10_000_000)
        {
            failures.Add("Provisioning:Http:FailureTrackingCapacity must be between 100 and 10000000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
