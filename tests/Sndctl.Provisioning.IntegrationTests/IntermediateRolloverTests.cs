using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// <c>ca rollover-intermediate</c>: a new device issuing CA under the same root. A device certificate issued before
/// and one issued after both verify against the root (openssl), from different intermediates; with the root key
/// taken offline the command needs it back and refuses another key.
/// </summary>
public sealed class IntermediateRolloverTests : HostCommandTest
{

    [Fact]
    public async Task Devices_issued_before_and_after_an_intermediate_rollover_both_verify_against_the_root()
    {
        var data = Path.Combine(Work, "data");
        string root, before, after;
        CreatedDevice early;
        await using (var host = new ProvisioningHostFactory(data))
        {
            root = await host.Device().GetStringAsync("/api/v1/ca/root.pem");
            early = await host.CreateDeviceAsync();
            before = await RegisterAsync(host, early);
        }

        var rollover = await Host(["ca", "rollover-intermediate"], data);
        Assert.True(rollover.ExitCode == 0, rollover.Output + rollover.Error);
        Assert.Contains("G2", rollover.Output, StringComparison.Ordinal);

        await using (var host = new ProvisioningHostFactory(data))
        {
            Assert.Equal(root, await host.Device().GetStringAsync("/api/v1/ca/root.pem"));
            after = await RegisterAsync(host, await host.CreateDeviceAsync());
            // The early device's stored certificate is still served to it (it renews when it is due).
            Assert.Equal(before, await RegisterAsync(host, early));
        }

        Assert.NotEqual(await IssuerOfAsync(before), await IssuerOfAsync(after));
        Assert.Contains("G2", await IssuerOfAsync(after), StringComparison.Ordinal);
        await VerifyAsync(root, before);
        await VerifyAsync(root, after);

        // Root key offline: the command needs it, refuses a stranger's, and rolls over with the right one.
        await File.WriteAllTextAsync(Path.Combine(Work, "passphrase"), "the root key passphrase\n");
        Assert.Equal(0, (await Host(["ca", "export-root-key", "--out", "root.key", "--passphrase-file", "passphrase", "--remove"], data)).ExitCode);
        var without = await Host(["ca", "rollover-intermediate"], data);
        Assert.Equal(3, without.ExitCode);
        Assert.Contains("taken offline", without.Error, StringComparison.Ordinal);
        await ProcessRunner.OpenSslAsync(Work, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "stranger.key");
        var stranger = await Host(["ca", "rollover-intermediate", "--root-key", "stranger.key"], data);
        Assert.Equal(3, stranger.ExitCode);
        Assert.Contains("not this CA's root key", stranger.Error, StringComparison.Ordinal);
        var third = await Host(["ca", "rollover-intermediate", "--root-key", "root.key", "--passphrase-file", "passphrase"], data);
        Assert.True(third.ExitCode == 0, third.Output + third.Error);
        Assert.Contains("G3", third.Output, StringComparison.Ordinal);
        await using (var host = new ProvisioningHostFactory(data))
        {
            var latest = await RegisterAsync(host, await host.CreateDeviceAsync());
            Assert.Contains("G3", await IssuerOfAsync(latest), StringComparison.Ordinal);
            await VerifyAsync(root, latest);
        }
    }

    private static async Task<string> RegisterAsync(ProvisioningHostFactory host, CreatedDevice device)
    {
        using var client = host.Device();
        var response = await client.SendAsync(ProvisioningHostFactory.Register(device));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("certificate").GetString()!;
    }

    private async Task<string> IssuerOfAsync(string chain)
    {
        var file = Guid.NewGuid().ToString("N") + ".pem";
        await File.WriteAllTextAsync(Path.Combine(Work, file), chain);
        return await ProcessRunner.OpenSslAsync(Work, "x509", "-in", file, "-noout", "-issuer");
    }

    private async Task VerifyAsync(string root, string chain)
    {
        var name = Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(Path.Combine(Work, name + ".root.pem"), root);
        await File.WriteAllTextAsync(Path.Combine(Work, name + ".chain.pem"), chain);
        var verify = await ProcessRunner.RunAsync("openssl", ["verify", "-CAfile", name + ".root.pem", "-untrusted", name + ".chain.pem", name + ".chain.pem"], Work);
        Assert.True(verify.ExitCode == 0, verify.Output + verify.Error);
    }

    private Task<(int ExitCode, string Output, string Error)> Host(string[] arguments, string data)
        => Host(arguments, new Dictionary<string, string?> { ["Provisioning__DataDirectory"] = data });
}
