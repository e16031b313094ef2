using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.AcmeServer.Internal;

internal sealed class AcmeServerOptionsValidator : IValidateOptions<AcmeServerOptions>
{
    public ValidateOptionsResult Validate(string? name, AcmeServerOptions options)
    {
        var failures = new List<string>();
        Check(options.NonceLifetime, TimeSpan.FromMinutes(1), TimeSpan.FromDays(1), nameof(options.NonceLifetime), "1 minute to 1 day", failures);
        Check(options.OrderLifetime, TimeSpan.FromHours(1), TimeSpan.FromDays(30), nameof(options.OrderLifetime), "1 hour to 30 days", failures);
        Check(options.FinalizeWait, TimeSpan.Zero, TimeSpan.FromSeconds(25), nameof(options.FinalizeWait), "0 to 25 seconds (clients time out at 30)", failures);
        Check(options.ProcessingRetryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10), nameof(options.ProcessingRetryAfter), "1 second to 10 minutes", failures);
        if (options.MaxAccountsPerDevice is < 1 or > 100)
        {
            failures.Add($"AcmeServerOptions.MaxAccountsPerDevice is {options.MaxAccountsPerDevice}: use 1 to 100.");
        }

        if (options.MaxOpenOrdersPerDevice is < 1 or > 100)
        {
            failures.Add($"AcmeServerOptions.MaxOpenOrdersPerDevice is {options.MaxOpenOrdersPerDevice}: use 1 to 100.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(TimeSpan value, TimeSpan min, TimeSpan max, string name, string range, List<string> failures)
    {
        if (value < min || value > max)
        {
            failures.Add($"AcmeServerOptions.{name} is {value}: use {range}.");
        }
    }
}
