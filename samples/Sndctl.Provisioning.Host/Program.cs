using Sndctl.Provisioning.Host;

if (args is ["health", ..])
{
    // The container health check: asks the running host, needs no configuration.
    return await HealthProbe.RunAsync(args[1..]);
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
