using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Dns.Internal;

namespace Sndctl.Provisioning.Dns.Cloudflare.Internal;

/// <summary>
/// The few Cloudflare API v4 calls DNS-01 needs, over the typed <see cref="HttpClient"/>: envelope checking and
/// pagination. Retries of 429/5xx (honouring <c>Retry-After</c>) and the per-call timeout are the client's
/// resilience handler's (<see cref="DnsProviderResilience"/>).
/// </summary>
internal sealed partial class CloudflareApi(HttpClient http, IOptionsMonitor<CloudflareDnsOptions> options, CloudflareZones zones, ILogger<CloudflareApi> logger)
{
    private const int IdenticalRecordExists = 81058;
    private const int RecordDoesNotExist = 81044;

    public async Task VerifyTokenAsync(CancellationToken cancellationToken)
    {
        using var document = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "user/tokens/verify"), "verifying the API token", cancellationToken).ConfigureAwait(false);
        var status = document.RootElement.GetProperty("result").GetProperty("status").GetString();
        if (status != "active")
        {
            throw new CloudflareApiException($"The Cloudflare API token is '{status}', not active: make a new token with Zone:Read and DNS:Edit.", HttpStatusCode.OK, []);
        }
    }

    public async Task<string> GetZoneNameAsync(string zoneId, CancellationToken cancellationToken)
    {
        using var document = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"zones/{Uri.EscapeDataString(zoneId)}"), $"reading zone {zoneId} (needs Zone:Read)", cancellationToken).ConfigureAwait(false);
        return document.RootElement.GetProperty("result").GetProperty("name").GetString()!;
    }

    /// <summary>The configured zone, or the longest zone of the token that contains <paramref name="recordName"/> (the zones listed once, <see cref="CloudflareZones"/>).</summary>
    public async Task<string> FindZoneIdAsync(string recordName, CancellationToken cancellationToken)
    {
        if (options.CurrentValue.ZoneId is { Length: > 0 } configured)
        {
            return configured;
        }

        var zoneId = await zones.FindAsync(recordName, ListZonesAsync, cancellationToken).ConfigureAwait(false);
        if (zoneId is not null)
        {
            return zoneId;
        }

        throw new CloudflareApiException(
            $"No Cloudflare zone of this token contains '{recordName}': add the zone to the token's resources (Zone:Read, DNS:Edit) or set ZoneId.",
            HttpStatusCode.NotFound,
            []);
    }

    /// <summary>A zone ID Cloudflare refused as unknown (the zone was deleted and added again): the zones are listed again at the next lookup.</summary>
    public void ForgetZones() => zones.Forget();

    private async Task<IReadOnlyList<(string Name, string Id)>> ListZonesAsync(CancellationToken cancellationToken)
    {
        var found = new List<(string Name, string Id)>();
        await foreach (var zone in PagesAsync("zones?per_page=50", "listing the zones (needs Zone:Read)", cancellationToken).ConfigureAwait(false))
        {
            found.Add((zone.GetProperty("name").GetString()!, zone.GetProperty("id").GetString()!));
        }

        return found;
    }

    /// <summary>Adds one TXT record and returns its ID; an identical record (same name and value) is reused.</summary>
    public async Task<string> CreateTxtAsync(string zoneId, string name, string value, CancellationToken cancellationToken)
    {
        var body = new CreateRecord("TXT", name, Quote(value), options.CurrentValue.Ttl);
        try
        {
            using var document = await SendAsync(
                () => new HttpRequestMessage(HttpMethod.Post, $"zones/{Uri.EscapeDataString(zoneId)}/dns_records") { Content = JsonContent.Create(body, CloudflareJsonContext.Default.CreateRecord) },
                $"creating the TXT record {name} (needs DNS:Edit)",
                cancellationToken).ConfigureAwait(false);
            return document.RootElement.GetProperty("result").GetProperty("id").GetString()!;
        }
        catch (CloudflareApiException ex) when (ex.Errors.Any(e => e.Code == IdenticalRecordExists))
        {
            // The same value at the same name is the same challenge (a retried attempt): use that record.
            await foreach (var recordId in FindTxtAsync(zoneId, name, value, cancellationToken).ConfigureAwait(false))
            {
                return recordId;
            }

            throw;
        }
    }

    /// <summary>The A or AAAA records at <paramref name="name"/>: (record ID, address text).</summary>
    public async Task<List<(string Id, string Content)>> ListAddressRecordsAsync(string zoneId, string type, string name, CancellationToken cancellationToken)
    {
        var found = new List<(string, string)>();
        await foreach (var record in PagesAsync($"zones/{Uri.EscapeDataString(zoneId)}/dns_records?type={type}&name={Uri.EscapeDataString(name)}", $"listing {type} records at {name}", cancellationToken).ConfigureAwait(false))
        {
            found.Add((record.GetProperty("id").GetString()!, record.GetProperty("content").GetString()!));
        }

        return found;
    }

    /// <summary>Creates one A or AAAA record, DNS only (<c>proxied: false</c>: the name must lead to the device, not to Cloudflare).</summary>
    public async Task CreateAddressAsync(string zoneId, string type, string name, string address, int ttl, CancellationToken cancellationToken)
    {
        var body = new CreateAddressRecord(type, name, address, ttl, Proxied: false);
        try
        {
            using var document = await SendAsync(
                () => new HttpRequestMessage(HttpMethod.Post, $"zones/{Uri.EscapeDataString(zoneId)}/dns_records") { Content = JsonContent.Create(body, CloudflareJsonContext.Default.CreateAddressRecord) },
                $"creating the {type} record {name} (needs DNS:Edit)",
                cancellationToken).ConfigureAwait(false);
        }
        catch (CloudflareApiException ex) when (ex.Errors.Any(e => e.Code == IdenticalRecordExists))
        {
            // Made by a concurrent publication of the same set: the record is there, which is the goal.
        }
    }

    /// <summary>The IDs of the TXT records at <paramref name="name"/> whose value is <paramref name="value"/>.</summary>
    public async IAsyncEnumerable<string> FindTxtAsync(string zoneId, string name, string value, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var record in PagesAsync($"zones/{Uri.EscapeDataString(zoneId)}/dns_records?type=TXT&name={Uri.EscapeDataString(name)}", $"listing TXT records at {name}", cancellationToken).ConfigureAwait(false))
        {
            if (Unquote(record.GetProperty("content").GetString()) == value)
            {
                yield return record.GetProperty("id").GetString()!;
            }
        }
    }

    /// <summary>Deletes one record by ID; a record that is gone already counts as deleted.</summary>
    public async Task DeleteAsync(string zoneId, string recordId, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await SendAsync(
                () => new HttpRequestMessage(HttpMethod.Delete, $"zones/{Uri.EscapeDataString(zoneId)}/dns_records/{Uri.EscapeDataString(recordId)}"),
                $"deleting DNS record {recordId} (needs DNS:Edit)",
                cancellationToken).ConfigureAwait(false);
        }
        catch (CloudflareApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound || ex.Errors.Any(e => e.Code == RecordDoesNotExist))
        {
            Log.AlreadyGone(logger, recordId);
        }
    }

    /// <summary>Every item of a paginated list (<c>result_info.total_pages</c>), page by page.</summary>
    public async IAsyncEnumerable<JsonElement> PagesAsync(string path, string what, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        for (var page = 1; ; page++)
        {
            var pagePath = $"{path}{separator}page={page}&per_page=50";
            using var document = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, pagePath), what, cancellationToken).ConfigureAwait(false);
            foreach (var item in document.RootElement.GetProperty("result").EnumerateArray())
            {
                yield return item.Clone();
            }

            var totalPages = document.RootElement.TryGetProperty("result_info", out var info) && info.TryGetProperty("total_pages", out var pages) ? pages.GetInt32() : 1;
            if (page >= totalPages)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// One API call. Throttled and failing answers are retried by the client's resilience handler
    /// (<see cref="DnsProviderResilience"/>), which also bounds each attempt by <see cref="CloudflareDnsOptions.RequestTimeout"/>.
    /// </summary>
    private async Task<JsonDocument> SendAsync(Func<HttpRequestMessage> create, string what, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        using var request = create();
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.ApiToken);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Polly.Timeout.TimeoutRejectedException ex)
        {
            throw new TimeoutException($"Cloudflare did not answer within {settings.RequestTimeout.TotalSeconds:0.#} s while {what}.", ex);
        }

        using (response)
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            JsonDocument? document = null;
            try
            {
                document = JsonDocument.Parse(bytes);
            }
            catch (JsonException)
            {
                // Not Cloudflare's envelope (a proxy's error page): described below.
            }

            var success = document is not null && document.RootElement.TryGetProperty("success", out var flag) && flag.ValueKind == JsonValueKind.True;
            if (response.IsSuccessStatusCode && success)
            {
                return document!;
            }

            var errors = document is not null && document.RootElement.TryGetProperty("errors", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().Select(e => new CloudflareError(
                    e.TryGetProperty("code", out var code) && code.TryGetInt32(out var number) ? number : 0,
                    e.TryGetProperty("message", out var message) ? message.GetString() ?? string.Empty : string.Empty)).ToList()
                : [];
            document?.Dispose();
            throw new CloudflareApiException(Describe(response.StatusCode, errors, what), response.StatusCode, errors);
        }
    }

    private static string Describe(HttpStatusCode status, List<CloudflareError> errors, string what)
    {
        var detail = errors.Count == 0 ? string.Empty : " Cloudflare said: " + string.Join("; ", errors.Select(e => $"{e.Code} {e.Message}"));
        return status switch
        {
            HttpStatusCode.Unauthorized => $"Cloudflare rejected the API token (401) while {what}: check Provisioning:Dns:Cloudflare:ApiToken is an API token (not the global API key), active and not expired.{detail}",
            HttpStatusCode.Forbidden => $"The Cloudflare API token is not allowed to do this (403) while {what}: it needs Zone:Read and DNS:Edit on the zone of the device hostnames.{detail}",
            HttpStatusCode.TooManyRequests => $"Cloudflare kept answering 429 (rate limited) while {what}.{detail}",
            _ => $"Cloudflare answered {(int)status} while {what}.{detail}",
        };
    }

    private static string Quote(string value) => "\"" + value + "\"";

    private static string? Unquote(string? content) => content is { Length: >= 2 } && content[0] == '"' && content[^1] == '"' ? content[1..^1] : content;

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Debug, "DNS record {RecordId} was already gone.")]
        public static partial void AlreadyGone(ILogger logger, string recordId);
    }
}

internal sealed record CreateRecord(
    [property: System.Text.Json.Serialization.JsonPropertyName("type")] string Type,
    [property: System.Text.Json.Serialization.JsonPropertyName("name")] string Name,
    [property: System.Text.Json.Serialization.JsonPropertyName("content")] string Content,
    [property: System.Text.Json.Serialization.JsonPropertyName("ttl")] int Ttl);

internal sealed record CreateAddressRecord(
    [property: System.Text.Json.Serialization.JsonPropertyName("type")] string Type,
    [property: System.Text.Json.Serialization.JsonPropertyName("name")] string Name,
    [property: System.Text.Json.Serialization.JsonPropertyName("content")] string Content,
    [property: System.Text.Json.Serialization.JsonPropertyName("ttl")] int Ttl,
    [property: System.Text.Json.Serialization.JsonPropertyName("proxied")] bool Proxied);

[System.Text.Json.Serialization.JsonSerializable(typeof(CreateRecord))]
[System.Text.Json.Serialization.JsonSerializable(typeof(CreateAddressRecord))]
internal sealed partial class CloudflareJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
