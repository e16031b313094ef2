using System.Net;
using System.Net.Http.Json;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary><c>Provisioning:Telemetry:Prometheus</c> serves the fleet's figures on <c>/metrics</c>, to an admin key only.</summary>
public sealed class TelemetryTests : IAsyncDisposable
{
    private readonly ProvisioningHostFactory _host = new(settings: new Dictionary<string, string?> { ["Provisioning:Telemetry:Prometheus"] = "true" });

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _host.DeleteData();
    }

    [Fact]
    public async Task Metrics_show_issuances_to_an_admin_key_and_nothing_to_anyone_else()
    {
        using var device = _host.Device();
        var created = await _host.CreateDeviceAsync();
        Assert.Equal(HttpStatusCode.OK, (await device.SendAsync(ProvisioningHostFactory.Register(created))).StatusCode);

        await HttpAssert.ProblemAsync(await device.GetAsync("/metrics"), 401);
        using var admin = _host.Admin();
        var text = await ScrapeAsync(admin, "sndctl_provisioning_certificates_issued");

        Assert.Contains("sndctl_provisioning_certificates_issued", text, StringComparison.Ordinal);
        Assert.Contains("issuer=\"PrivateCa\"", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_count_CSR_submissions_by_outcome_and_throttled_requests_by_reason()
    {
        using var client = _host.Device();
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ProvisioningHostFactory.Register(await _host.CreateDeviceAsync()), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/v1/csr", new { content = PrivateCsrTests.Csr("192.168.1.20") }, TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PostAsJsonAsync("/api/v1/csr", new { content = PrivateCsrTests.Csr("192.168.1.21") }, TestContext.Current.CancellationToken)).StatusCode);

        using var admin = _host.Admin();
        var text = await ScrapeAsync(admin, "sndctl_provisioning_http_throttled");

        Assert.Matches("sndctl_privateca_csr_submissions_total\\{[^}]*outcome=\"approved\"[^}]*\\} 1", text);
        Assert.Matches("sndctl_privateca_csr_submissions_total\\{[^}]*outcome=\"limited\"[^}]*\\} 1", text);
        Assert.Matches("sndctl_provisioning_http_throttled_total\\{[^}]*reason=\"too-many-requests\"[^}]*\\} 1", text);

        // The Grafana dashboard in deploy/ asks for these series under the names the exporter gives them.
        var dashboard = await File.ReadAllTextAsync(Path.Combine(DeploymentManifestTests.RepositoryRoot(), "deploy", "grafana", "sndctl-provisioning.json"), TestContext.Current.CancellationToken);
        using var parsed = System.Text.Json.JsonDocument.Parse(dashboard);
        Assert.NotEmpty(parsed.RootElement.GetProperty("panels").EnumerateArray());
        foreach (var series in new[] { "sndctl_provisioning_certificates_issued_total", "sndctl_provisioning_issuance_duration_seconds_bucket", "sndctl_privateca_csr_submissions_total", "sndctl_provisioning_http_throttled_total", "http_server_request_duration_seconds_bucket" })
        {
            Assert.Contains(series, dashboard, StringComparison.Ordinal);
            Assert.Contains(series, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_the_setting_there_is_no_metrics_endpoint()
    {
        await using var plain = new ProvisioningHostFactory();
        using var admin = plain.Admin();
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/metrics", TestContext.Current.CancellationToken)).StatusCode);
        plain.DeleteData();
    }

    /// <summary>/metrics once it shows <paramref name="series"/> (the exporter caches a scrape briefly), or after 4 s.</summary>
    private static async Task<string> ScrapeAsync(HttpClient admin, string series)
    {
        var text = await admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        for (var attempt = 1; attempt < 20 && !text.Contains(series, StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
            text = await admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        }

        return text;
    }
}
