using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The RFC 2136 provider end to end on Knot DNS and BIND 9 (tests/dns-lab.sh): Pebble validates DNS-01 against the
/// server itself (<c>-dnsserver</c>), so a certificate proves the TSIG-signed update landed there; device addresses
/// land there too (dig). A wrong key is a clear 503 for the device, the reason in health, and changes nothing.
/// </summary>
public sealed class Rfc2136Tests : IAsyncDisposable
{
    private readonly List<System.Diagnostics.Process> _processes = [];

    public ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    [Theory]
    [InlineData("knot")]
    [InlineData("bind")]
    public async Task Pebble_issues_through_TSIG_signed_updates_and_device_addresses_land_in_the_server(string server)
    {
        var lab = AcmeLab.Require();
        var dns = Rfc2136Lab.Require();
        var (pebble, directory) = lab.StartPebble(dns.Server(server), validatorSleeps: false);
        _processes.Add(pebble);
        await using var host = new ProvisioningHostFactory(null, Settings(dns, server, dns.Secret, lab, directory));
        try
        {
            var device = await host.CreateDeviceAsync();
            using var client = host.Device();
            var response = await RegisterAsync(client, device, "192.168.77.7");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            var chain = new X509Certificate2Collection();
            chain.ImportFromPem((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("certificate").GetString());
            Assert.Equal(device.Hostname, chain[0].GetNameInfo(X509NameType.DnsName, false));
            Assert.Contains("Pebble", chain[0].Issuer, StringComparison.Ordinal);

            var port = Port(dns.Server(server));
            Assert.Empty((await Dig.QueryAsync(port, "_acme-challenge." + device.Hostname, "TXT")).Answer); // removed after validation
            Assert.Equal([$"{device.Hostname} A 192.168.77.7"], (await Dig.QueryAsync(port, device.Hostname, "A")).Answer);

            var moved = await client.SendAsync(ProvisioningHostFactory.Post("/api/v1/addresses", device.Secret, new { deviceId = device.DeviceId, addresses = new[] { "10.20.30.40", "fd00::7" } }));
            Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync());
            Assert.Equal([$"{device.Hostname} A 10.20.30.40"], (await Dig.QueryAsync(port, device.Hostname, "A")).Answer);
            Assert.Equal([$"{device.Hostname} AAAA fd00::7"], (await Dig.QueryAsync(port, device.Hostname, "AAAA")).Answer);
        }
        finally
        {
            host.DeleteData();
        }
    }

    [Theory]
    [InlineData("knot")]
    [InlineData("bind")]
    public async Task A_wrong_key_is_a_clear_503_with_the_reason_in_health_and_changes_nothing(string server)
    {
        var lab = AcmeLab.Require();
        var dns = Rfc2136Lab.Require();
        var (pebble, directory) = lab.StartPebble(dns.Server(server), validatorSleeps: false);
        _processes.Add(pebble);
        var port = Port(dns.Server(server));
        await using var host = new ProvisioningHostFactory(null, Settings(dns, server, Convert.ToBase64String(new byte[32]), lab, directory));
        try
        {
            var device = await host.CreateDeviceAsync();
            using var client = host.Device();
            var response = await RegisterAsync(client, device, "192.168.77.8");
            await HttpAssert.ProblemAsync(response, 503);
            Assert.True(response.Headers.RetryAfter is not null);

            using var admin = host.Admin();
            var health = await admin.GetFromJsonAsync<JsonElement>("/api/health");
            var reason = health.GetProperty("checks").GetProperty("dns").GetProperty("description").GetString();
            Assert.Contains("BADSIG", reason, StringComparison.Ordinal);
            Assert.Contains("TsigSecret", reason, StringComparison.Ordinal);

            // Nothing of the device reached the zone (other tests change the zone meanwhile: its serial says nothing here).
            Assert.Empty((await Dig.QueryAsync(port, "_acme-challenge." + device.Hostname, "TXT")).Answer);
            Assert.Empty((await Dig.QueryAsync(port, device.Hostname, "A")).Answer);
        }
        finally
        {
            host.DeleteData();
        }
    }

    [Theory]
    [InlineData("knot")]
    [InlineData("bind")]
    public async Task Updates_signed_with_hmac_sha512_are_taken_and_a_zone_given_explicitly_is_used(string server)
    {
        var dns = Rfc2136Lab.Require();
        var services = new ServiceCollection();
        services.AddDeviceProvisioning(o => o.BaseDomain = "sha512." + dns.Zone).UseRfc2136Dns(o =>
        {
            o.Server = dns.Server(server);
            o.Zone = dns.Zone;
            o.TsigKeyName = dns.Sha512KeyName;
            o.TsigAlgorithm = "hmac-sha512";
            o.TsigSecret = dns.Sha512Secret;
        });
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var dnsProvider = scope.ServiceProvider.GetRequiredService<IDnsProvider>();
        var name = $"_acme-challenge.{Guid.NewGuid():N}"[..28] + ".sha512." + dns.Zone;
        var record = await dnsProvider.CreateTxtRecordAsync(name, "signed-with-sha512", TestContext.Current.CancellationToken);
        var port = Port(dns.Server(server));
        Assert.Equal([$"{name} TXT \"signed-with-sha512\""], (await Dig.QueryAsync(port, name, "TXT")).Answer);
        await dnsProvider.DeleteTxtRecordAsync(record, TestContext.Current.CancellationToken);
        Assert.Empty((await Dig.QueryAsync(port, name, "TXT")).Answer);
    }

    private static async Task<HttpResponseMessage> RegisterAsync(HttpClient client, CreatedDevice device, string address)
    {
        HttpResponseMessage response;
        var attempts = 0;
        do
        {
            response = await client.SendAsync(ProvisioningHostFactory.Post("/api/v1/register", device.Secret, new { deviceId = device.DeviceId, addresses = new[] { address } }));
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                await Task.Delay(500, TestContext.Current.CancellationToken);
            }
        }
        while (response.StatusCode == HttpStatusCode.Accepted && ++attempts < 60);
        return response;
    }

    /// <summary>The host in ACME mode against <paramref name="directory"/> (a Pebble asking the server), DNS-01 through RFC 2136 on it.</summary>
    private static Dictionary<string, string?> Settings(Rfc2136Lab dns, string server, string secret, AcmeLab lab, Uri directory) => new()
    {
        // A name of its own per test under the lab's zone: the server's zone is found by SOA (rfc2136.test).
        ["Provisioning:BaseDomain"] = $"{server}-{Guid.NewGuid():N}"[..12] + "." + dns.Zone,
        ["Provisioning:Dns:Provider"] = "Rfc2136",
        ["Provisioning:Dns:Rfc2136:Server"] = dns.Server(server),
        ["Provisioning:Dns:Rfc2136:TsigKeyName"] = dns.KeyName,
        ["Provisioning:Dns:Rfc2136:TsigSecret"] = secret,
        ["Provisioning:Issuer"] = "Acme",
        ["Provisioning:Acme:DirectoryUrl"] = directory.AbsoluteUri,
        ["Provisioning:Acme:AcceptTermsOfService"] = "true",
        ["Provisioning:Acme:TrustedRootFile"] = lab.TlsRootFile,
        ["Provisioning:Acme:PropagationNameservers:0"] = dns.Server(server),
    };

    private static int Port(string server) => int.Parse(server.Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);
}
