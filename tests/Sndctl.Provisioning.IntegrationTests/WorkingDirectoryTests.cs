using System.Net;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The built host started from another directory (a systemd unit's <c>WorkingDirectory=/var/lib/sndctl</c>, a cron job)
/// reads its own settings files and serves the portal's assets from its own directory; <c>./data</c> is relative to the
/// working directory. The systemd unit ships the hardening it promises.
/// </summary>
public sealed class WorkingDirectoryTests : HostCommandTest
{
    [Fact]
    public async Task Started_from_another_directory_the_host_uses_its_own_settings_and_portal_assets_and_data_in_the_working_directory()
    {
        var elsewhere = Directory.CreateDirectory(Path.Combine(Work, "var-lib-sndctl")).FullName;
        await using var host = HostProcess.Start(new Dictionary<string, string?> { ["Provisioning__DataDirectory"] = null }, workingDirectory: elsewhere);
        await host.WaitReadyAsync();
        using var client = host.CreateClient();

        var css = await client.GetAsync("/admin/portal.css");
        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
        Assert.True(File.Exists(Path.Combine(elsewhere, "data", "provisioning.db")));

        // appsettings.json was read: EF Core's SQL is logged at Warning and above only.
        Assert.DoesNotContain("Executed DbCommand", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("WebRootPath was not found", host.Output, StringComparison.Ordinal);
        host.Kill();
    }

    [Fact]
    public async Task The_systemd_unit_runs_the_host_as_a_dynamic_user_with_its_state_directory_and_hardening()
    {
        var unit = await File.ReadAllTextAsync(Path.Combine(DeploymentManifestTests.RepositoryRoot(), "deploy", "systemd", "sndctl-provisioning.service"));
        foreach (var line in new[] { "DynamicUser=yes", "StateDirectory=sndctl-provisioning", "WorkingDirectory=/var/lib/sndctl-provisioning", "ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=", "RestartPreventExitStatus=2" })
        {
            Assert.Contains("\n" + line + "\n", unit, StringComparison.Ordinal);
        }

        Assert.Matches("(?m)^ExecStart=/usr/bin/dotnet /opt/sndctl/Sndctl.Provisioning.Host.dll ", unit);
        Assert.DoesNotContain("MemoryDenyWriteExecute=yes", unit, StringComparison.Ordinal); // .NET's JIT writes code
    }
}
