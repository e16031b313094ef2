using Sndctl.Provisioning.Host;

if (args is ["health", ..])
{
    // The container health check: asks the running host, needs no configuration.
    return await HealthProbe.RunAsync(args[1..]);
}

// The settings files are polled (every 4 s), not watched: ASP.NET Core's watcher for appsettings.json
// covers the whole content root recursively, which by default holds the data directory, so every
// write to the SQLite database and its WAL woke it (about 5 % of the host's CPU under a storm of issuances).
if (Environment.GetEnvironmentVariable("DOTNET_USE_POLLING_FILE_WATCHER") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_USE_POLLING_FILE_WATCHER", "true");
}

var builder = WebApplication.CreateBuilder(args);
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
if (args is ["ca", ..])
{
    // Admin commands run against the same configuration and database, without serving.
    return await AdminCommands.RunAsync(app, args[1..]);
}

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
