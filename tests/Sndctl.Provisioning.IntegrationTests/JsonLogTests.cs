using System.Net;
using System.Text.Json;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>JSON console logs as docs/operations.md configures them: one JSON object per line, structured, no secrets.</summary>
public sealed class JsonLogTests
{
    [Fact]
    public async Task With_the_json_formatter_every_line_is_a_json_object_with_its_fields_and_no_secret()
    {
        var data = Directory.CreateTempSubdirectory("sndctl-json-logs-").FullName;
        const string adminKey = "json-log-test-admin-key-0123456789abcdef012345";
        await using var host = HostProcess.Start(new Dictionary<string, string?>
        {
            ["Provisioning__DataDirectory"] = data,
            ["Provisioning__Admin__ApiKeys__0"] = adminKey,
            ["Logging__Console__FormatterName"] = "json",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "yyyy-MM-ddTHH:mm:ss.fffZ",
            ["Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true",
            ["Logging__LogLevel__Default"] = "Information",
        });
        try
        {
            await host.WaitReadyAsync();
            using var admin = host.CreateClient(adminKey);
            var created = await (await admin.PostAsync("/api/admin/devices", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync();
            var secret = JsonDocument.Parse(created).RootElement.GetProperty("secret").GetString()!;
            using var wrong = host.CreateClient("json-log-test-wrong-key-0123456789abcdef0123");
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/admin/devices")).StatusCode);
            await Task.Delay(500);

            var lines = host.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.NotEmpty(lines);
            var entries = lines.Select(line => JsonDocument.Parse(line).RootElement).ToList(); // every line parses
            Assert.All(entries, e =>
            {
                Assert.True(e.TryGetProperty("Timestamp", out var timestamp) && timestamp.GetString()!.EndsWith('Z'));
                Assert.True(e.TryGetProperty("LogLevel", out _));
                Assert.True(e.TryGetProperty("Category", out _));
                Assert.True(e.TryGetProperty("Message", out _));
            });
            Assert.Contains(entries, e => e.GetProperty("Category").GetString()!.StartsWith("Sndctl.Provisioning", StringComparison.Ordinal) && e.TryGetProperty("State", out _));
            Assert.DoesNotContain(adminKey, host.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, host.Output, StringComparison.Ordinal);
        }
        finally
        {
            host.Kill();
            Directory.Delete(data, recursive: true);
        }
    }
}
