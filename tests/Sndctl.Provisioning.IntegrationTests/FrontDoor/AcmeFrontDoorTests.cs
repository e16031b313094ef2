using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Acme;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// The ACME front door of the reference host (private CA issuer), driven by this project's own RFC 8555 client and
/// by hand-made requests for what clients should never send. The real clients (lego, certbot, Caddy) against an
/// upstream Pebble are in AcmeFrontDoorClientTests.
/// </summary>
public sealed class AcmeFrontDoorTests : IAsyncLifetime
{
    private readonly List<ProvisioningHostFactory> _hosts = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
            host.DeleteData();
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_device_with_its_ID_and_secret_as_EAB_gets_its_certificate_which_is_its_certificate_everywhere()
    {
        var host = Start();
        var device = await host.CreateDeviceAsync();
        using var http = host.Device();
        var directory = await http.GetFromJsonAsync<JsonElement>("/acme/directory", Ct);
        Assert.True(directory.GetProperty("meta").GetProperty("externalAccountRequired").GetBoolean());
        foreach (var resource in new[] { "newNonce", "newAccount", "newOrder", "revokeCert", "keyChange", "renewalInfo" })
        {
            Assert.StartsWith(http.BaseAddress!.AbsoluteUri + "acme/", directory.GetProperty(resource).GetString(), StringComparison.Ordinal);
        }

        using var key = AcmeAccountKey.Create();
        var client = Client(http, key);
        await client.CreateAccountAsync(Binding(device), Ct);
        using var deviceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var chain = await OrderAsync(client, device.Hostname, deviceKey);

        using var leaf = X509Certificate2.CreateFromPem(chain.Pem);
        Assert.Equal(device.Hostname, leaf.GetNameInfo(X509NameType.DnsName, false));
        Assert.Equal(deviceKey.ExportSubjectPublicKeyInfo(), leaf.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(2, chain.Pem.Split("-----BEGIN CERTIFICATE-----").Length - 1); // leaf, then the issuing CA

        // One history: the admin sees it, and the device API's fast path serves it for the same key.
        using var admin = host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}", Ct);
        Assert.Equal("active", details.GetProperty("status").GetString());
        Assert.Equal(leaf.SerialNumber, details.GetProperty("certificates")[0].GetProperty("serialNumber").GetString());
        Assert.Contains(details.GetProperty("events").EnumerateArray(), e => e.GetProperty("type").GetString() == AuditEventTypes.AcmeAccountCreated);
        var csr = DeviceCsrs.For(device.Hostname, deviceKey).CreateSigningRequestPem();
        var served = await (await http.SendAsync(ProvisioningHostFactory.Register(device, csr: csr), Ct)).Content.ReadFromJsonAsync<ProvisionResponse>(Ct);
        Assert.StartsWith(leaf.ExportCertificatePem(), served!.Certificate, StringComparison.Ordinal);

        // RFC 9773 renewal information for it.
        var renewal = await client.GetRenewalInfoAsync(leaf, Ct);
        Assert.NotNull(renewal);
        Assert.True(renewal.SuggestedWindow.Start > DateTimeOffset.UtcNow && renewal.SuggestedWindow.End < leaf.NotAfter);
    }

    [Fact]
    public async Task No_EAB_a_wrong_secret_another_devices_secret_and_a_disabled_device_get_no_account()
    {
        var host = Start();
        var device = await host.CreateDeviceAsync();
        var other = await host.CreateDeviceAsync();
        using var http = host.Device();
        using var key = AcmeAccountKey.Create();
        var client = Client(http, key);

        var missing = await Assert.ThrowsAsync<AcmeExternalAccountRequiredException>(() => client.CreateAccountAsync(new AcmeNewAccountRequest { TermsOfServiceAgreed = true }, Ct));
        Assert.Contains("device", missing.Message, StringComparison.Ordinal);
        var wrong = await Assert.ThrowsAsync<AcmeUnauthorizedException>(() => client.CreateAccountAsync(Binding(device, other.Secret), Ct));
        Assert.Contains("device secret", wrong.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<AcmeUnauthorizedException>(() => client.CreateAccountAsync(Binding(device with { DeviceId = "nosuchdevice" }), Ct));

        using var admin = host.Admin();
        Assert.True((await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/disable", null, Ct)).IsSuccessStatusCode);
        var disabled = await Assert.ThrowsAsync<AcmeUnauthorizedException>(() => client.CreateAccountAsync(Binding(device), Ct));
        Assert.Contains("disabled", disabled.Message, StringComparison.Ordinal);

        Assert.Null(await client.FindAccountAsync(Ct));
        var events = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}", Ct);
        Assert.DoesNotContain(events.GetProperty("events").EnumerateArray(), e => e.GetProperty("type").GetString() == AuditEventTypes.AcmeAccountCreated);
        Assert.DoesNotContain(host.Logs, l => l.Contains(device.Secret, StringComparison.Ordinal) || l.Contains(other.Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_account_orders_only_its_devices_name_and_stops_working_when_the_device_is_disabled()
    {
        var host = Start();
        var device = await host.CreateDeviceAsync();
        var other = await host.CreateDeviceAsync();
        using var http = host.Device();
        using var key = AcmeAccountKey.Create();
        var client = Client(http, key);
        await client.CreateAccountAsync(Binding(device), Ct);

        string[][] refusedSets = [[other.Hostname], ["*." + device.Hostname], [device.Hostname, other.Hostname], ["devices.example.test"]];
        foreach (var identifiers in refusedSets)
        {
            var refused = await Assert.ThrowsAsync<AcmeProblemException>(() => client.NewOrderAsync(new AcmeOrderRequest { Identifiers = [.. identifiers.Select(AcmeIdentifier.Dns)] }, Ct));
            Assert.Equal(AcmeErrorTypes.RejectedIdentifier, refused.Problem.Type);
        }

        var ip = await Assert.ThrowsAsync<AcmeProblemException>(() => client.NewOrderAsync(new AcmeOrderRequest { Identifiers = [new AcmeIdentifier("ip", "192.168.1.20")] }, Ct));
        Assert.Equal(AcmeErrorTypes.RejectedIdentifier, ip.Problem.Type);

        var order = await client.NewOrderAsync(new AcmeOrderRequest { Identifiers = [AcmeIdentifier.Dns(device.Hostname)] }, Ct);
        Assert.Equal(AcmeStatus.Ready, order.Status);
        var authorization = await client.GetAuthorizationAsync(order.Authorizations[0], Ct);
        Assert.Equal(AcmeStatus.Valid, authorization.Status);

        // A CSR for another name is badCSR, and the order waits for a right one.
        using var deviceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var badCsr = await Assert.ThrowsAsync<AcmeProblemException>(() => client.FinalizeOrderAsync(order, Csr(other.Hostname, deviceKey), Ct));
        Assert.Equal(AcmeErrorTypes.BadCsr, badCsr.Problem.Type);
        Assert.Equal(AcmeStatus.Ready, (await client.GetOrderAsync(order.Location, Ct)).Status);

        using var admin = host.Admin();
        Assert.True((await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/disable", null, Ct)).IsSuccessStatusCode);
        var stopped = await Assert.ThrowsAnyAsync<AcmeProblemException>(() => client.NewOrderAsync(new AcmeOrderRequest { Identifiers = [AcmeIdentifier.Dns(device.Hostname)] }, Ct));
        Assert.Contains("disabled", stopped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_made_before_secrets_were_kept_is_told_to_rotate_and_binds_after_a_rotation()
    {
        var host = Start();
        var device = await host.CreateDeviceAsync();
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var devices = scope.ServiceProvider.GetRequiredService<IDeviceStore>();
            var stored = (await devices.FindAsync(device.DeviceId, Ct))!;
            stored.ProtectedSecret = null; // as a device made before the front door
            await devices.UpdateAsync(stored, Ct);
        }

        using var http = host.Device();
        using var key = AcmeAccountKey.Create();
        var client = Client(http, key);
        var refused = await Assert.ThrowsAsync<AcmeUnauthorizedException>(() => client.CreateAccountAsync(Binding(device), Ct));
        Assert.Contains("rotate its secret", refused.Message, StringComparison.Ordinal);

        using var admin = host.Admin();
        var rotated = await (await admin.PostAsync($"/api/admin/devices/{device.DeviceId}/secret", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var account = await client.CreateAccountAsync(Binding(device, rotated.GetProperty("secret").GetString()), Ct);
        Assert.Equal(AcmeStatus.Valid, account.Status);
    }

    [Fact]
    public async Task Nonces_are_accepted_once_on_any_instance_and_a_JWS_for_another_URL_is_refused()
    {
        var data = Path.Combine(Path.GetTempPath(), "sndctl-it-" + Guid.NewGuid().ToString("N"));
        var first = Start(data);
        var device = await first.CreateDeviceAsync();
        var second = Start(data); // the same database and key ring: a second instance
        using var httpA = first.Device();
        using var httpB = second.Device();
        var (a, b) = (new RawAcme(httpA, httpA.BaseAddress!.AbsoluteUri), new RawAcme(httpB, httpB.BaseAddress!.AbsoluteUri));
        using var key = AcmeAccountKey.Create();
        var account = await a.NewAccountAsync(key, device.DeviceId, device.Secret);
        var accountOnB = account.Replace(httpA.BaseAddress.Authority, httpB.BaseAddress.Authority, StringComparison.Ordinal);

        // A nonce instance A issued, used at instance B: accepted; the same again, at either: badNonce with a fresh one.
        var nonce = await a.NonceAsync();
        using (var accepted = await b.PostAsync(accountOnB, RawAcme.Jws(key, accountOnB, nonce, accountOnB, null)))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        foreach (var (raw, url) in new[] { (b, accountOnB), (a, account) })
        {
            using var replayed = await raw.PostAsync(url, RawAcme.Jws(key, url, nonce, url, null));
            await AssertAcmeProblemAsync(replayed, HttpStatusCode.BadRequest, "badNonce");
            Assert.NotEqual(nonce, replayed.Headers.GetValues("Replay-Nonce").Single());
        }

        // Signed for another URL (the account, sent to new-order): refused, and the nonce stays unused.
        var unused = await a.NonceAsync();
        using (var misdirected = await a.PostAsync(a.Url("new-order"), RawAcme.Jws(key, account, unused, account, null)))
        {
            await AssertAcmeProblemAsync(misdirected, HttpStatusCode.Forbidden, "unauthorized");
        }

        using (var stillGood = await a.PostAsync(account, RawAcme.Jws(key, account, unused, account, null)))
        {
            Assert.Equal(HttpStatusCode.OK, stillGood.StatusCode);
        }

        // Deactivated by its holder: the account is done.
        using (var deactivated = await a.PostAsync(account, RawAcme.Jws(key, account, await a.NonceAsync(), account, """{"status":"deactivated"}""")))
        {
            Assert.Equal("deactivated", (await deactivated.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
        }

        using var after = await a.PostAsync(a.Url("new-order"), RawAcme.Jws(key, a.Url("new-order"), await a.NonceAsync(), account, $$"""{"identifiers":[{"type":"dns","value":"{{device.Hostname}}"}]}"""));
        await AssertAcmeProblemAsync(after, HttpStatusCode.Forbidden, "unauthorized");
    }

    [Fact]
    public async Task Garbage_in_every_shape_gets_an_ACME_problem_never_a_5xx()
    {
        var host = Start();
        var device = await host.CreateDeviceAsync();
        using var http = host.Device();
        var raw = new RawAcme(http, http.BaseAddress!.AbsoluteUri);
        using var key = AcmeAccountKey.Create();
        var account = await raw.NewAccountAsync(key, device.DeviceId, device.Secret);
        using var fresh = AcmeAccountKey.Create(); // a key with no account: its newAccount is not answered with an existing one
        var random = new Random(20261207);
        var bodies = new List<string>
        {
            "", "{}", "[]", "null", "\"jws\"", "{\"protected\":1,\"payload\":\"\",\"signature\":\"\"}", "{\"protected\":\"!!\",\"payload\":\"\",\"signature\":\"AA\"}",
            "{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"AA\"}", "{\"protected\":\"bnVsbA\",\"payload\":\"\",\"signature\":\"AA\"}",
            "{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"AA\",\"header\":{}}", "{\"signatures\":[]}", new string('[', 5000), "{\"protected\":\"" + new string('A', 70_000) + "\"}",
            RawAcme.Jws(key, raw.Url("new-order"), "not-a-nonce", account, "{}"),
            RawAcme.Jws(key, raw.Url("new-order"), await raw.NonceAsync(), account, "{}", algorithm: "HS256"),
            RawAcme.Jws(key, raw.Url("new-order"), await raw.NonceAsync(), account, "{}", algorithm: "none"),
            RawAcme.Jws(key, raw.Url("new-order"), await raw.NonceAsync(), raw.Url("account/../../admin"), "{}"),
            RawAcme.Jws(key, raw.Url("new-order"), await raw.NonceAsync(), account, "[1,2]"),
            RawAcme.Jws(key, raw.Url("new-order"), await raw.NonceAsync(), account, """{"identifiers":"x"}"""),
            RawAcme.Jws(key, raw.Url("new-order"), await raw.NonceAsync(), account, """{"identifiers":[{"type":"dns","value":null}]}"""),
            RawAcme.Jws(fresh, raw.Url("new-account"), await raw.NonceAsync(), null, """{"externalAccountBinding":{"protected":"e30","payload":"","signature":"AA"}}"""),
            RawAcme.Jws(fresh, raw.Url("new-account"), await raw.NonceAsync(), null, """{"externalAccountBinding":"x"}"""),
            RawAcme.Jws(fresh, raw.Url("new-account"), await raw.NonceAsync(), null, "{\"externalAccountBinding\":" + RawAcme.ExternalAccountBinding(key, device.DeviceId, device.Secret, raw.Url("new-account")) + "}"),
        };
        for (var i = 0; i < 40; i++)
        {
            var bytes = new byte[random.Next(1, 600)];
            random.NextBytes(bytes);
            bodies.Add(Convert.ToBase64String(bytes));
            bodies.Add(System.Text.Encoding.Latin1.GetString(bytes));
        }

        foreach (var path in new[] { "new-account", "new-order", "revoke-cert", "key-change", "order/AAAAAAAAAAAAAAAAAAAAAA", "order/x/finalize", "cert/zz", new Uri(account).AbsolutePath[6..] })
        {
            foreach (var body in bodies)
            {
                using var response = await raw.PostAsync(raw.Url(path), body);
                Assert.True((int)response.StatusCode is >= 400 and < 500, $"{path} {body[..Math.Min(body.Length, 300)]}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
                Assert.StartsWith("urn:ietf:params:acme:error:", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            }
        }

        using var wrongType = await raw.PostAsync(raw.Url("new-order"), RawAcme.Jws(key, raw.Url("new-order"), await raw.NonceAsync(), account, "{}"), "application/json");
        await AssertAcmeProblemAsync(wrongType, HttpStatusCode.UnsupportedMediaType, "malformed");
        using var get = await http.GetAsync("/acme/new-order", Ct);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        using var unknownCert = await http.GetAsync("/acme/renewal-info/AAAA.AAAA", Ct);
        await AssertAcmeProblemAsync(unknownCert, HttpStatusCode.NotFound, "malformed");
        Assert.DoesNotContain(host.Logs, l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Key_change_and_revocation_work_through_the_devices_own_account_only()
    {
        var host = Start();
        var device = await host.CreateDeviceAsync();
        var other = await host.CreateDeviceAsync();
        using var http = host.Device();
        using var key = AcmeAccountKey.Create();
        var client = Client(http, key);
        await client.CreateAccountAsync(Binding(device), Ct);
        using var deviceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var leaf = X509Certificate2.CreateFromPem((await OrderAsync(client, device.Hostname, deviceKey)).Pem);

        // Another device's account may not revoke it.
        using var otherKey = AcmeAccountKey.Create();
        var otherClient = Client(http, otherKey);
        await otherClient.CreateAccountAsync(Binding(other), Ct);
        await Assert.ThrowsAsync<AcmeUnauthorizedException>(() => otherClient.RevokeCertificateAsync(leaf.RawData, null, Ct));

        // Key change: the old key no longer signs for the account, the new one does.
        using var newKey = AcmeAccountKey.Create(AcmeKeyAlgorithm.ES384);
        await client.ChangeAccountKeyAsync(newKey, Ct);
        var oldKeyClient = Client(http, key);
        Assert.Null(await oldKeyClient.FindAccountAsync(Ct));

        await client.RevokeCertificateAsync(leaf.RawData, 4, Ct);
        var again = await Assert.ThrowsAsync<AcmeProblemException>(() => client.RevokeCertificateAsync(leaf.RawData, 4, Ct));
        Assert.Equal(AcmeErrorTypes.AlreadyRevoked, again.Problem.Type);
        using var admin = host.Admin();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device.DeviceId}", Ct);
        Assert.NotEqual(JsonValueKind.Null, details.GetProperty("certificates")[0].GetProperty("revokedAt").ValueKind);
        var work = Directory.CreateTempSubdirectory("sndctl-crl-").FullName;
        await File.WriteAllBytesAsync(Path.Combine(work, "crl.der"), await http.GetByteArrayAsync("/api/v1/ca/crl/devices.crl", Ct), Ct);
        var crl = await ProcessRunner.OpenSslAsync(work, "crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text");
        Assert.Contains("Serial Number: " + leaf.SerialNumber, crl, StringComparison.OrdinalIgnoreCase);
        Directory.Delete(work, recursive: true);
    }

    [Fact]
    public async Task Behind_a_listed_TLS_proxy_the_directory_names_the_https_URLs_the_clients_call_and_no_one_else_can_choose_them()
    {
        var behindProxy = Start(extra: new() { ["Provisioning:Http:KnownProxies:0"] = "127.0.0.1" });
        var direct = Start();
        foreach (var (host, expected) in new[] { (behindProxy, "https://provision.example.com/acme/new-order"), (direct, null) })
        {
            using var http = host.Device();
            using var request = new HttpRequestMessage(HttpMethod.Get, "/acme/directory");
            request.Headers.Host = "provision.example.com";
            request.Headers.Add("X-Forwarded-Proto", "https");
            using var response = await http.SendAsync(request, Ct);
            var newOrder = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("newOrder").GetString();
            Assert.Equal(expected ?? "http://provision.example.com/acme/new-order", newOrder);
        }
    }

    private ProvisioningHostFactory Start(string? dataDirectory = null, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Provisioning:BaseDomain"] = "devices.example.test",
            ["Provisioning:AcmeServer:Enabled"] = "true",
            ["Provisioning:AcmeServer:FinalizeWait"] = "00:00:10",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var host = new ProvisioningHostFactory(dataDirectory, settings);
        _hosts.Add(host);
        return host;
    }

    private static AcmeClient Client(HttpClient http, AcmeAccountKey key)
        => new(http, new Uri(http.BaseAddress!, "/acme/directory"), key, new AcmeClientOptions { PollMaxDelay = TimeSpan.FromMilliseconds(200) });

    private static AcmeNewAccountRequest Binding(CreatedDevice device, string? secret = null) => new()
    {
        TermsOfServiceAgreed = true,
        ExternalAccountBinding = new AcmeExternalAccountBinding(device.DeviceId, System.Buffers.Text.Base64Url.DecodeFromChars(secret ?? device.Secret)),
    };

    private static byte[] Csr(string hostname, ECDsa key)
    {
        var request = new CertificateRequest("CN=" + hostname, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostname);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSigningRequest();
    }

    private static async Task<AcmeCertificateChain> OrderAsync(AcmeClient client, string hostname, ECDsa key)
    {
        var order = await client.NewOrderAsync(new AcmeOrderRequest { Identifiers = [AcmeIdentifier.Dns(hostname)] }, Ct);
        order = await client.FinalizeOrderAsync(order, Csr(hostname, key), Ct);
        order = await client.WaitForOrderAsync(order.Location, Ct);
        Assert.Equal(AcmeStatus.Valid, order.Status);
        return await client.DownloadCertificateAsync(order.Certificate!, null, Ct);
    }

    internal static async Task<JsonElement> AssertAcmeProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal("urn:ietf:params:acme:error:" + type, problem.GetProperty("type").GetString());
        return problem;
    }
}
