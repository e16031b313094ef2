using System.Collections.Concurrent;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, the host sends logs, spans and metrics over OTLP/HTTP: a log written
/// while serving a request carries that request's trace ID (from the caller's <c>traceparent</c>), and PostgreSQL
/// commands appear as spans. The collector is a loopback server that keeps what it receives.
/// </summary>
public sealed class OtlpExportTests : IAsyncLifetime
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private readonly string _work = Directory.CreateTempSubdirectory("sndctl-otlp-").FullName;
    private readonly ConcurrentDictionary<string, ConcurrentBag<byte[]>> _received = new(StringComparer.Ordinal);
    private WebApplication? _collector;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _collector = builder.Build();
        _collector.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            _received.GetOrAdd(signal, _ => []).Add(body.ToArray());
            return Results.Ok();
        });
        await _collector.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _collector!.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task Logs_carry_the_trace_of_their_request_and_PostgreSQL_commands_are_spans()
    {
        var server = TestPostgres.Server();
        var database = $"sndctl_otlp_{Guid.NewGuid():N}";
        try
        {
            await using var host = HostProcess.Start(new Dictionary<string, string?>
            {
                ["Provisioning__DataDirectory"] = Path.Combine(_work, "data"),
                ["Provisioning__Storage__Provider"] = "PostgreSql",
                ["ConnectionStrings__Provisioning"] = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString,
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _collector!.Urls.Single(),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            });
            await host.WaitReadyAsync();
            using var client = host.CreateClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/register")
            {
                Content = JsonContent.Create(new { deviceId = "otlp-probe-device" }),
            };
            request.Headers.Add("X-Device-Secret", "not-the-secret-of-any-device");
            request.Headers.Add("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01");
            Assert.Equal(401, (int)(await client.SendAsync(request)).StatusCode);

            var traceId = Convert.FromHexString(TraceId);
            await WaitForAsync(() => Received("logs").Any(body => Contains(body, "Authentication failed for device"u8) && Contains(body, traceId)));
            await WaitForAsync(() => Received("traces").Any(body => Contains(body, traceId)));
            await WaitForAsync(() => Received("traces").Any(body => Contains(body, "postgresql"u8)));
            await WaitForAsync(() => Received("metrics").Any(body => Contains(body, "sndctl.provisioning.build.info"u8)));
            host.Kill();
        }
        finally
        {
            await TestPostgres.DropAsync(server, database);
        }
    }

    private byte[][] Received(string signal) => _received.TryGetValue(signal, out var bodies) ? [.. bodies] : [];

    private static bool Contains(byte[] body, ReadOnlySpan<byte> value) => body.AsSpan().IndexOf(value) >= 0;

    private async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 150 && !condition(); i++)
        {
            await Task.Delay(200);
        }

        Assert.True(condition(), $"Not received; signals so far: {string.Join(", ", _received.Select(r => $"{r.Key}×{r.Value.Count}"))}");
    }
}
