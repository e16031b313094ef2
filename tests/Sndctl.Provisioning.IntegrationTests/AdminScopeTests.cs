using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>Scoped admin keys: each key does what its scopes say and gets 403 outside them, in the API and the portal.</summary>
public sealed class AdminScopeTests : IAsyncDisposable
{
    private const string AdminKey = "scope-test-admin-key-000000000000000000000000";
    private const string ReadKey = "scope-test-read-key-0000000000000000000000000";
    private const string FactoryKey = "scope-test-factory-key-0000000000000000000000";
    private const string MetricsKey = "scope-test-metrics-key-0000000000000000000000";
    private const string CsrKey = "scope-test-csr-key-000000000000000000000000000";

    private readonly ProvisioningHostFactory _host = new(settings: new Dictionary<string, string?>
    {
        ["Provisioning:Admin:ApiKeys:0"] = AdminKey,
        ["Provisioning:Admin:Keys:0:Key"] = ReadKey,
        ["Provisioning:Admin:Keys:0:Scopes:0"] = "read",
        ["Provisioning:Admin:Keys:1:Key"] = FactoryKey,
        ["Provisioning:Admin:Keys:1:Scopes:0"] = "devices",
        ["Provisioning:Admin:Keys:2:Key"] = MetricsKey,
        ["Provisioning:Admin:Keys:2:Scopes:0"] = "metrics",
        ["Provisioning:Admin:Keys:3:Key"] = CsrKey,
        ["Provisioning:Admin:Keys:3:Scopes:0"] = "csr",
        ["Provisioning:Telemetry:Prometheus"] = "true",
    });

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _host.DeleteData();
    }

    [Fact]
    public async Task A_read_key_cannot_write_a_factory_key_only_creates_a_metrics_key_only_reads_metrics()
    {
        using var admin = Client(AdminKey);
        using var read = Client(ReadKey);
        using var factory = Client(FactoryKey);
        using var metrics = Client(MetricsKey);
        using var csr = Client(CsrKey);

        // The factory line creates devices, one or a batch, and can read nothing.
        var created = await factory.PostAsJsonAsync("/api/admin/devices", new { });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var device = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deviceId").GetString()!;
        Assert.Equal(HttpStatusCode.Created, (await factory.PostAsJsonAsync("/api/admin/devices/batch", new { count = 2 })).StatusCode);
        await Forbidden(factory.GetAsync("/api/admin/devices"));
        await Forbidden(factory.GetAsync($"/api/admin/devices/{device}"));
        await Forbidden(factory.PostAsync($"/api/admin/devices/{device}/disable", null));
        await Forbidden(factory.GetAsync("/metrics"));

        // A read key reads everything and changes nothing.
        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync("/api/admin/devices")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync($"/api/admin/devices/{device}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync("/api/admin/statistics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync("/api/admin/csr")).StatusCode);
        await Forbidden(read.PostAsJsonAsync("/api/admin/devices", new { }));
        await Forbidden(read.PostAsync($"/api/admin/devices/{device}/disable", null));
        await Forbidden(read.PostAsync($"/api/admin/devices/{device}/secret", null));
        await Forbidden(read.DeleteAsync($"/api/admin/devices/{device}"));
        await Forbidden(read.GetAsync("/metrics"));

        // Metrics only.
        Assert.Equal(HttpStatusCode.OK, (await metrics.GetAsync("/metrics")).StatusCode);
        await Forbidden(metrics.GetAsync("/api/admin/devices"));
        await Forbidden(metrics.PostAsJsonAsync("/api/admin/devices", new { }));

        // The CSR key lists and decides CSR requests, nothing about devices.
        Assert.Equal(HttpStatusCode.OK, (await csr.GetAsync("/api/admin/csr")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await csr.PostAsync("/api/admin/csr/csr_none/approve", null)).StatusCode);
        await Forbidden(csr.GetAsync("/api/admin/devices"));

        // Nothing changed by the refused calls; the admin key does everything.
        var view = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device}");
        Assert.Equal("pending", view.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/admin/devices/{device}/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/metrics")).StatusCode);

        // A wrong key is still 401, not 403.
        using var wrong = Client("scope-test-wrong-key-00000000000000000000000");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/admin/devices")).StatusCode);
    }

    [Fact]
    public async Task The_portal_is_read_only_for_a_read_key()
    {
        using var admin = Client(AdminKey);
        var device = (await (await admin.PostAsJsonAsync("/api/admin/devices", new { })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deviceId").GetString()!;

        using var portal = await AdminPortalTests.SignedInClientAsync(_host, ReadKey);
        Assert.Equal(HttpStatusCode.OK, (await portal.GetAsync("/admin")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await portal.GetAsync($"/admin/devices/{device}")).StatusCode);
        var confirm = await portal.GetAsync($"/admin/devices/{device}/disable");
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        var token = AdminPortalTests.Token(await confirm.Content.ReadAsStringAsync());
        Assert.NotEmpty(token);
        var disable = await portal.PostAsync($"/admin/devices/{device}/disable", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Forbidden, disable.StatusCode);
        Assert.Equal("pending", (await admin.GetFromJsonAsync<JsonElement>($"/api/admin/devices/{device}")).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await portal.GetAsync("/admin/devices/new")).StatusCode);
    }

    private HttpClient Client(string key)
    {
        var client = _host.Device();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task Forbidden(Task<HttpResponseMessage> call)
    {
        var problem = await HttpAssert.ProblemAsync(await call, 403);
        Assert.Contains("scopes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
