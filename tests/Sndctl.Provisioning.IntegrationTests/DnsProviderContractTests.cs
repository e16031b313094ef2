using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Testing.Contracts;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The DNS provider contract (Sndctl.Provisioning.Testing) run against every provider: Cloudflare and Route53
/// through stand-ins that keep their published APIs (the zone read from the stand-in), the embedded authoritative
/// server, pebble-challtestsrv, and the RFC 2136 provider on Knot DNS and BIND (the zone read with <c>dig</c>, as a
/// resolver sees it).
/// </summary>
public sealed class DnsProviderContractTests
{
    private const string Zone = "devices.example.test";

    public static TheoryData<string> Checks => new(DnsProviderContract.Checks);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Checks))]
    public async Task Cloudflare(string check)
    {
        await using var cloudflare = await FakeCloudflare.StartAsync();
        cloudflare.Tokens["contract-token-0123456789"] = (["zone:read", "dns:edit"], "active");
        cloudflare.AddZone(Zone);
        var services = new ServiceCollection();
        services.AddDeviceProvisioning(o => o.BaseDomain = Zone).UseCloudflareDns(o => (o.ApiToken, o.BaseUrl) = ("contract-token-0123456789", cloudflare.BaseUrl));
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();

        var contract = new DnsProviderContract(scope.ServiceProvider.GetRequiredService<IDnsProvider>(), (name, type, _) => Task.FromResult<IReadOnlyCollection<string>>(
            [.. cloudflare.Records.Values.Where(r => r.Name == name && r.Type == type).Select(r => r.Content.Trim('"'))]), Zone);
        await contract.RunAsync(check, Ct);
    }

    [Theory]
    [MemberData(nameof(Checks))]
    public async Task Route53(string check)
    {
        await using var route53 = await FakeRoute53.StartAsync();
        route53.Keys["AKIACONTRACT00000001"] = ("contract/Secret/0123456789", ["route53:ListHostedZonesByName", "route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets", "route53:GetChange"], null);
        var zoneId = route53.AddZone(Zone);
        var services = new ServiceCollection();
        services.AddDeviceProvisioning(o => o.BaseDomain = Zone).UseRoute53Dns(o =>
        {
            (o.AccessKeyId, o.SecretAccessKey, o.ServiceUrl) = ("AKIACONTRACT00000001", "contract/Secret/0123456789", route53.ServiceUrl);
            o.SyncPollInterval = TimeSpan.FromMilliseconds(20);
        });
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();

        var contract = new DnsProviderContract(scope.ServiceProvider.GetRequiredService<IDnsProvider>(), (name, type, _) => Task.FromResult<IReadOnlyCollection<string>>(type switch
        {
            "TXT" => [.. route53.TxtAt(zoneId, name).Select(v => v.Trim('"'))],
            _ => [.. route53.AddressesAt(zoneId, name).Select(r => r.Split(' ')).Where(r => r[0] == type).Select(r => r[2])],
        }), Zone);
        await contract.RunAsync(check, Ct);
    }

    [Theory]
    [MemberData(nameof(Checks))]
    public async Task Authoritative(string check)
    {
        var port = Ports.Free();
        await using var host = new ProvisioningHostFactory(null, new Dictionary<string, string?>
        {
            ["Provisioning:BaseDomain"] = Zone,
            ["Provisioning:Dns:Provider"] = "Authoritative",
            ["Provisioning:Dns:Authoritative:Endpoints:0"] = $"127.0.0.1:{port}",
            ["Provisioning:Dns:Authoritative:Nameservers:0:Name"] = $"ns1.{Zone}",
            ["Provisioning:Dns:Authoritative:Nameservers:0:Addresses:0"] = "127.0.0.1",
            ["Provisioning:Dns:Authoritative:ResponsesPerSecond"] = "10000", // the checks poll from one address
        });
        try
        {
            using (host.Device())
            {
                // Started: the DNS server listens once the host runs.
            }

            await using var scope = host.Services.CreateAsyncScope();
            await new DnsProviderContract(scope.ServiceProvider.GetRequiredService<IDnsProvider>(), (name, type, _) => DigAsync(port, name, type), Zone).RunAsync(check, Ct);
        }
        finally
        {
            host.DeleteData();
        }
    }

    [Theory]
    [MemberData(nameof(Checks))]
    public async Task ChallTestSrv(string check)
    {
        var lab = AcmeLab.Require();
        var port = int.Parse(lab.ChallTestSrvDns.Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);
        var services = new ServiceCollection();
        services.AddDeviceProvisioning(o => o.BaseDomain = Zone).UseChallTestSrvDns(lab.ChallTestSrv);
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();

        // challtestsrv answers every name without A records with its default address (-defaultIPv4, 127.0.0.1): not a record.
        await new DnsProviderContract(scope.ServiceProvider.GetRequiredService<IDnsProvider>(), async (name, type, _) =>
            [.. (await DigAsync(port, name, type)).Where(value => !(type == "A" && value == "127.0.0.1"))], Zone).RunAsync(check, Ct);
    }

    [Theory]
    [MemberData(nameof(Checks))]
    public Task Rfc2136_on_Knot(string check) => Rfc2136Async("knot", check);

    [Theory]
    [MemberData(nameof(Checks))]
    public Task Rfc2136_on_Bind(string check) => Rfc2136Async("bind", check);

    /// <summary>The RFC 2136 provider against a real server (tests/dns-lab.sh), the zone read with dig from that server.</summary>
    private static async Task Rfc2136Async(string server, string check)
    {
        var lab = Rfc2136Lab.Require();
        var zone = "contract." + lab.Zone;
        var services = new ServiceCollection();
        services.AddDeviceProvisioning(o => o.BaseDomain = zone).UseRfc2136Dns(o =>
        {
            o.Server = lab.Server(server);
            o.TsigKeyName = lab.KeyName;
            o.TsigSecret = lab.Secret;
        });
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var port = int.Parse(lab.Server(server).Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);
        await new DnsProviderContract(scope.ServiceProvider.GetRequiredService<IDnsProvider>(), (name, type, _) => DigAsync(port, name, type), zone).RunAsync(check, Ct);
    }

    /// <summary>The records of one type in dig's answer, TXT without its quotes.</summary>
    private static async Task<IReadOnlyCollection<string>> DigAsync(int port, string name, string type)
    {
        var answer = await Dig.QueryAsync(port, name, type);
        return [.. answer.Answer.Select(r => r.Split(' ', 3)).Where(r => r[1] == type).Select(r => r[2].Trim('"'))];
    }
}
