using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

public sealed class DeviceFlowTests : IAsyncLifetime
{
    private readonly ProvisioningHostFactory _host = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _host.DeleteData();
    }

    [Fact]
    public async Task Register_new_device_certificate_chains_to_served_root_has_only_hostname_and_matches_key()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();

        var response = await client.SendAsync(ProvisioningHostFactory.Register(device));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<ProvisionResponse>())!;
        Assert.Equal(device.Hostname, body.Hostname);
        Assert.Equal($"{device.DeviceId}.devices.localhost", body.Hostname);

        var rootPem = await client.GetStringAsync("/api/v1/ca/root.pem");
        using var root = X509Certificate2.CreateFromPem(rootPem);
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(body.Certificate);
        Assert.Equal(2, chain.Count);
        using var leaf = X509Certificate2.CreateFromPem(body.Certificate, body.PrivateKey);
        Assert.True(leaf.HasPrivateKey);

        using var validator = new X509Chain();
        validator.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        validator.ChainPolicy.CustomTrustStore.Add(root);
        validator.ChainPolicy.ExtraStore.Add(chain[1]);
        validator.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        validator.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        validator.ChainPolicy.VerificationTime = _host.Time.GetUtcNow().UtcDateTime;
        Assert.True(validator.Build(leaf), string.Join(", ", validator.ChainStatus.Select(s => s.StatusInformation)));

        var san = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal([device.Hostname], san.EnumerateDnsNames());
        Assert.Empty(san.EnumerateIPAddresses());
        using var key = leaf.GetECDsaPrivateKey();
        Assert.NotNull(key);
        Assert.Equal(256, key!.KeySize);
        Assert.True(body.NotAfter - body.NotBefore > TimeSpan.FromDays(89));
        Assert.True(body.RenewAfter > body.NotBefore && body.RenewAfter < body.NotAfter);
        foreach (var c in chain)
        {
            c.Dispose();
        }
    }

    [Fact]
    public async Task Register_twice_same_certificate_and_nothing_new_issued()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        var first = await (await client.SendAsync(ProvisioningHostFactory.Register(device))).Content.ReadFromJsonAsync<ProvisionResponse>();
        var second = await (await client.SendAsync(ProvisioningHostFactory.Register(device))).Content.ReadFromJsonAsync<ProvisionResponse>();

        Assert.Equal(first!.Certificate, second!.Certificate);
        Assert.Equal(first.PrivateKey, second.PrivateKey);
        Assert.Single(await HistoryAsync(device));
    }

    [Fact]
    public async Task Renewing_outside_the_window_returns_the_same_certificate_and_inside_it_a_new_one_with_history_kept()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        var first = (await (await client.SendAsync(ProvisioningHostFactory.Register(device))).Content.ReadFromJsonAsync<ProvisionResponse>())!;

        _host.Time.Advance(TimeSpan.FromDays(30));
        var early = (await (await client.SendAsync(ProvisioningHostFactory.Renew(device))).Content.ReadFromJsonAsync<ProvisionResponse>())!;
        Assert.Equal(first.Certificate, early.Certificate);

        _host.Time.SetUtcNow(first.RenewAfter.AddMinutes(1));
        var response = await client.SendAsync(ProvisioningHostFactory.Renew(device));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var renewed = (await response.Content.ReadFromJsonAsync<ProvisionResponse>())!;
        Assert.NotEqual(first.Certificate, renewed.Certificate);
        Assert.NotEqual(first.PrivateKey, renewed.PrivateKey);
        Assert.True(renewed.NotAfter > first.NotAfter);

        var history = await HistoryAsync(device);
        Assert.Equal(2, history.Count);
        Assert.True(history[0].GetProperty("current").GetBoolean());
        Assert.False(history[1].GetProperty("current").GetBoolean());
    }

    [Fact]
    public async Task Thirty_two_concurrent_registrations_of_a_new_device_cause_exactly_one_issuance()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        var responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => client.SendAsync(ProvisioningHostFactory.Register(device))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var certificates = await Task.WhenAll(responses.Select(r => r.Content.ReadFromJsonAsync<ProvisionResponse>()));
        Assert.Single(certificates.Select(c => c!.Certificate).Distinct());
        Assert.Single(await HistoryAsync(device));
        using var admin = _host.Admin();
        var events = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/events?deviceId={device.DeviceId}");
        Assert.Single(events.GetProperty("items").EnumerateArray(), e => e.GetProperty("type").GetString() == "certificate.issued");
    }

    [Fact]
    public async Task Register_with_own_CSR_no_key_returned_and_certificate_for_CSR_key()
    {
        var device = await _host.CreateDeviceAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + device.Hostname, key, HashAlgorithmName.SHA256);
        using var client = _host.Device();

        // Without the hostname in a subjectAltName: a 400 that says how, before any CA is asked.
        var cnOnly = await client.SendAsync(ProvisioningHostFactory.Register(device, csr: request.CreateSigningRequestPem()));
        Assert.Contains("subjectAltName=DNS:" + device.Hostname, (await HttpAssert.ProblemAsync(cnOnly, 400)).GetProperty("detail").GetString());
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(device.Hostname);
        request.CertificateExtensions.Add(names.Build());

        var response = await client.SendAsync(ProvisioningHostFactory.Register(device, csr: request.CreateSigningRequestPem()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(json.TryGetProperty("privateKey", out _));
        using var leaf = X509Certificate2.CreateFromPem(json.GetProperty("certificate").GetString());
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), leaf.PublicKey.ExportSubjectPublicKeyInfo());

        // Same CSR again: served from the store. A CSR for another name: refused.
        var again = await client.SendAsync(ProvisioningHostFactory.Register(device, csr: request.CreateSigningRequestPem()));
        Assert.Equal(json.GetProperty("certificate").GetString(), (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("certificate").GetString());
        var other = new CertificateRequest("CN=other.devices.localhost", key, HashAlgorithmName.SHA256);
        await HttpAssert.ProblemAsync(await client.SendAsync(ProvisioningHostFactory.Register(device, csr: other.CreateSigningRequestPem())), 400);
        Assert.Single(await HistoryAsync(device));
    }

    [Fact]
    public async Task Revoke_then_register_issues_replacement()
    {
        var device = await _host.CreateDeviceAsync();
        using var client = _host.Device();
        var first = (await (await client.SendAsync(ProvisioningHostFactory.Register(device))).Content.ReadFromJsonAsync<ProvisionResponse>())!;
        using var admin = _host.Admin();

        var revoke = await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/revoke", null);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        await HttpAssert.ProblemAsync(await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/revoke", null), 409);

        var second = (await (await client.SendAsync(ProvisioningHostFactory.Register(device))).Content.ReadFromJsonAsync<ProvisionResponse>())!;
        Assert.NotEqual(first.Certificate, second.Certificate);
        var history = await HistoryAsync(device);
        Assert.Equal(2, history.Count);
        Assert.Equal(JsonValueKind.String, history[1].GetProperty("revokedAt").ValueKind);
    }

    private async Task<List<JsonElement>> HistoryAsync(CreatedDevice device)
    {
        using var admin = _host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}");
        return details.GetProperty("certificates").EnumerateArray().ToList();
    }
}
