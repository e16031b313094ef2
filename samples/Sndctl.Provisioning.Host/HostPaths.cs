namespace Sndctl.Provisioning.Host;

/// <summary>
/// Where the host finds its own files. The settings files and the portal's assets come from the application's
/// directory, so the published host behaves the same from any working directory (a systemd unit with
/// <c>WorkingDirectory=/var/lib/sndctl</c>, a cron job); <c>./data</c> stays relative to the working directory.
/// </summary>
internal static class HostPaths
{
    /// <summary>
    /// The builder's options: the content root is the application's directory when the working directory has no
    /// <c>appsettings.json</c> of its own and the application's has (the default — the working directory — otherwise,
    /// which is what a test host or <c>dotnet run</c> from the project folder gives).
    /// </summary>
    public static WebApplicationOptions Options(string[] args)
    {
        var working = Directory.GetCurrentDirectory();
        var application = AppContext.BaseDirectory;
        var useApplication = !File.Exists(Path.Combine(working, "appsettings.json")) && File.Exists(Path.Combine(application, "appsettings.json"));
        return new WebApplicationOptions { Args = args, ContentRootPath = useApplication ? application : null };
    }
}
