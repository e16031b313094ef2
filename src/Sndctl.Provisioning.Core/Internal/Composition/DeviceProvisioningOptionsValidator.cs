using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Core.Internal;

internal sealed class DeviceProvisioningOptionsValidator : IValidateOptions<DeviceProvisioningOptions>
{
    public ValidateOptionsResult Validate(string? name, DeviceProvisioningOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.BaseDomain))
        {
            failures.Add("Provisioning:BaseDomain is required: set it to the DNS domain under which device hostnames live, e.g. 'devices.example.com'.");
        }
        else if (!DeviceNames.IsValidBaseDomain(options.BaseDomain))
        {
            failures.Add($"Provisioning:BaseDomain '{options.BaseDomain}' is not a lower-case DNS name of two or more labels (letters, digits, hyphens) short enough to hold a 63-character device label in front of it.");
        }

        if (!Enum.IsDefined(options.KeyAlgorithm))
        {
            failures.Add($"Provisioning:KeyAlgorithm '{options.KeyAlgorithm}' is unknown: use EcdsaP256, Rsa2048 or Rsa3072.");
        }

        RequirePositive(failures, options.IssuanceWaitBudget, "IssuanceWaitBudget");
        RequirePositive(failures, options.PendingRetryAfter, "PendingRetryAfter");
        RequirePositive(failures, options.IssuanceTimeout, "IssuanceTimeout");
        if (options.Retention.AuditEvents < TimeSpan.FromDays(1))
        {
            failures.Add("Provisioning:Retention:AuditEvents must be at least one day.");
        }

        RequirePositive(failures, options.IssuanceLeaseDuration, "IssuanceLeaseDuration");
        if (options.IssuanceLeaseDuration < TimeSpan.FromSeconds(3) || options.IssuanceLeaseDuration > TimeSpan.FromHours(1))
        {
            failures.Add("Provisioning:IssuanceLeaseDuration must be 3 s to 1 h: it is renewed every third of it while an issuance runs, and a dead instance's devices wait this long.");
        }

        if (options.InstanceId is { } instance && (instance.Length is 0 or > 100 || instance.Contains('#', StringComparison.Ordinal)))
        {
            failures.Add("Provisioning:InstanceId must be 1 to 100 characters without '#'.");
        }

        if (options.LastSeenResolution < TimeSpan.Zero)
        {
            failures.Add("Provisioning:LastSeenResolution must not be negative.");
        }

        if (options.DeviceIssuanceLimit < 1)
        {
            failures.Add("Provisioning:DeviceIssuanceLimit must be 1 or more (early re-issuances per device per DeviceIssuanceWindow).");
        }

        RequirePositive(failures, options.DeviceIssuanceWindow, "DeviceIssuanceWindow");
        if (options.FailedIssuanceLimit < 1)
        {
            failures.Add("Provisioning:FailedIssuanceLimit must be 1 or more (issuances the CA may refuse per device per FailedIssuanceWindow).");
        }

        RequirePositive(failures, options.FailedIssuanceWindow, "FailedIssuanceWindow");
        if (options.Addresses.ChangesPerHour < 1)
        {
            failures.Add("Provisioning:Addresses:ChangesPerHour must be 1 or more (address-set changes per device per hour).");
        }

        if (options.ReservedDeviceIds is { } reserved && reserved.FirstOrDefault(id => !DeviceNames.IsValidDeviceId(id)) is { } bad)
        {
            failures.Add($"Provisioning:ReservedDeviceIds: '{bad}' is not a device ID (a lower-case DNS label); list the IDs that may not be created, e.g. 'ns1'.");
        }

        if (options.MaxBatchSize is < 1 or > 100_000)
        {
            failures.Add("Provisioning:MaxBatchSize must be between 1 and 100000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void RequirePositive(List<string> failures, TimeSpan value, string key)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"Provisioning:{key} must be a positive time span such as '00:00:30'.");
        }
    }
}
