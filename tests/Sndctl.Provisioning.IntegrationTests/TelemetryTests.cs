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

    [Fact]
    public async Task The_metrics_listener_serves_metrics_without_credentials_and_nothing_else_while_the_main_metrics_need_a_key()
    {
        var data = Directory.CreateTempSubdirectory("sndctl-metrics-").FullName;
        var metricsPort = Ports.Free();
        const string adminKey = "metrics-test-admin-key-0123456789abcdef01234567";
        await using var host = HostProcess.Start(new Dictionary<string, string?>
        {
            ["Provisioning__DataDirectory"] = data,
            ["Provisioning__Admin__ApiKeys__0"] = adminKey,
            ["Provisioning__Telemetry__MetricsUrl"] = $"http://127.0.0.1:{metricsPort}",
            ["Provisioning__InstanceId"] = "metrics-test-instance",
        });
        try
        {
            await host.WaitReadyAsync();
            using var anonymous = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
            var scrape = await anonymous.GetAsync("/metrics", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            var first = await scrape.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.Contains("# TYPE", first, StringComparison.Ordinal);

            // The resource names the service, its version and the instance's stable ID (target_info).
            var target = first.Split('\n').Single(l => l.StartsWith("target_info{", StringComparison.Ordinal));
            Assert.Contains("service_name=\"sndctl-provisioning\"", target, StringComparison.Ordinal);
            Assert.Contains("service_instance_id=\"metrics-test-instance\"", target, StringComparison.Ordinal);
            Assert.Matches("service_version=\"[0-9]+\\.[0-9]+", target);
            // The series the alert rules (deploy/prometheus/alerts.yaml) ask for, under the names the exporter gives them:
            // the jobs' last success, the health checks and the CSR backlog appear once the first runs are done.
            (string Name, string Label)[] alerted =
            [
                ("sndctl_provisioning_job_last_success_seconds", "job_name=\"fleet-statistics\""),
                ("sndctl_provisioning_job_interval_seconds", "job_name=\"fleet-statistics\""),
                ("sndctl_provisioning_health", "check=\"database\""),
                ("sndctl_privateca_csr_pending", ""),
                ("sndctl_privateca_certificate_expiry_seconds", "ca=\"devices\""),
                ("sndctl_provisioning_certificates_expiring", "within=\"7d\""),
            ];
            static bool Has(string text, (string Name, string Label) series)
                => text.Split('\n').Any(line => line.StartsWith(series.Name + "{", StringComparison.Ordinal) && line.Contains(series.Label, StringComparison.Ordinal));
            var text = "";
            for (var attempt = 0; attempt < 60 && !alerted.All(series => Has(text, series)); attempt++)
            {
                await Task.Delay(500, TestContext.Current.CancellationToken);
                text = await anonymous.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
            }

            Assert.All(alerted, series => Assert.True(Has(text, series), $"{series.Name} {{{series.Label}}} is not in the scrape"));
            var rules = await File.ReadAllTextAsync(Path.Combine(DeploymentManifestTests.RepositoryRoot(), "deploy", "prometheus", "alerts.yaml"), TestContext.Current.CancellationToken);
            Assert.All(alerted, series => Assert.Contains(series.Name, rules, StringComparison.Ordinal));

            foreach (var path in new[] { "/api/health", "/api/admin/devices", "/admin", "/openapi/v1.json", "/api/v1/ca/root.pem", "/metrics/x" })
            {
                Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(path, TestContext.Current.CancellationToken)).StatusCode);
            }

            using var main = host.CreateClient();
            Assert.Equal(HttpStatusCode.Unauthorized, (await main.GetAsync("/metrics", TestContext.Current.CancellationToken)).StatusCode);
            using var admin = host.CreateClient(adminKey);
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/metrics", TestContext.Current.CancellationToken)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await main.GetAsync("/api/health", TestContext.Current.CancellationToken)).StatusCode);
        }
        finally
        {
            host.Kill();
            Directory.Delete(data, recursive: true);
        }
    }

    [Theory]
    [InlineData("https://0.0.0.0:9464", "is not an http URL")]
    [InlineData("http://0.0.0.0", "is not an http URL")]
    [InlineData("http://0.0.0.0:9464/metrics", "is not an http URL")]
    [InlineData("http://0.0.0.0:5080", "uses the port of the server's own URL")]
    public void A_metrics_url_that_cannot_work_stops_start_up_naming_the_key(string url, string message)
    {
        var configuration = Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(
            new Microsoft.Extensions.Configuration.ConfigurationBuilder(),
            new Dictionary<string, string?> { ["Provisioning:Telemetry:MetricsUrl"] = url }).Build();
        var error = Assert.Throws<Sndctl.Provisioning.Host.HostConfigurationException>(() => { _ = Sndctl.Provisioning.Host.HostSettings.Read(configuration, Path.GetTempPath()); });
        Assert.Contains("Provisioning:Telemetry:MetricsUrl", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
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
