using Sndctl.Provisioning.Host;

if (HostCommands.IsCommand(args))
{
    // Commands (health, ca ...) read the server's configuration when they need it, and do not serve.
    return await HostCommands.RunAsync(args, () =>
    {
        try
        {
            return WebApplication.CreateBuilder(HostPaths.Options([])).ReadSettings();
        }
        catch (HostConfigurationException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return null;
        }
    }, () =>
    {
        var commandBuilder = WebApplication.CreateBuilder(HostPaths.Options([]));
        try
        {
            commandBuilder.AddProvisioningHost();
        }
        catch (HostConfigurationException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return null;
        }

        return commandBuilder.Build();
    });
}

// The settings files are polled (every 4 s), not watched: ASP.NET Core's watcher for appsettings.json
// covers the whole content root recursively, which by default holds the data directory, so every
// write to the SQLite database and its WAL woke it (about 5 % of the host's CPU under a storm of issuances).
if (Environment.GetEnvironmentVariable("DOTNET_USE_POLLING_FILE_WATCHER") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_USE_POLLING_FILE_WATCHER", "true");
}

var builder = WebApplication.CreateBuilder(HostPaths.Options(args));
try
{
    builder.AddProvisioningHost();
}
catch (HostConfigurationException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}

var app = builder.Build();

try
{
    await app.UseProvisioningHostAsync();
    await app.StartAsync();
}
catch (Exception ex) when (HostConfigurationException.FromStart(ex) is { } configuration)
{
    // A package refused its configuration (ValidateOnStart): the messages, not a stack trace.
    await Console.Error.WriteLineAsync(configuration.Message);
    return 2;
}

await app.WaitForShutdownAsync();
return 0;

/// <summary>The reference server's entry point (public for WebApplicationFactory).</summary>
public partial class Program;
