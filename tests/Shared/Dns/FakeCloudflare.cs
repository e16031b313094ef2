using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Testing;

/// <summary>
/// A local Cloudflare API v4 (the parts DNS-01 uses) on Kestrel at 127.0.0.1, following the published
/// contract: Bearer API tokens with permissions, the <c>success/errors/messages/result/result_info</c>
/// envelope, <c>page</c>/<c>per_page</c> pagination, Cloudflare's error codes (9109, 10000, 1000,
/// 81044, 81058), and 429/5xx on demand. TXT records can be mirrored into a pebble-challtestsrv so a
/// real ACME server validates what was placed.
/// </summary>
public sealed class FakeCloudflare : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _challTestSrv = new();
    private readonly Lock _lock = new();

    private FakeCloudflare(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Token → permissions (<c>zone:read</c>, <c>dns:read</c>, <c>dns:edit</c>) and status.</summary>
    public ConcurrentDictionary<string, (string[] Permissions, string Status)> Tokens { get; } = new();

    public List<(string Id, string Name)> Zones { get; } = [];

    public ConcurrentDictionary<string, Record> Records { get; } = new();

    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>Largest page the server hands out (Cloudflare: per_page up to 50 for DNS records).</summary>
    public int MaxPerPage { get; set; } = 50;

    public int Next429 { get; set; }

    public int Next500 { get; set; }

    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>When set, TXT records are mirrored into this pebble-challtestsrv.</summary>
    public Uri? ChallTestSrv { get; set; }

    public static async Task<FakeCloudflare> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var fake = new FakeCloudflare(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUrl = new Uri(address + "/client/v4/");
        return fake;
    }

    public string AddZone(string name)
    {
        var id = RandomNumberGenerator.GetHexString(32, lowercase: true);
        lock (_lock)
        {
            Zones.Add((id, name));
        }

        return id;
    }

    public IEnumerable<Record> TxtAt(string name) => Records.Values.Where(r => r.Name == name && r.Type == "TXT");

    /// <summary>The A/AAAA records at <paramref name="name"/> as "TYPE content", sorted.</summary>
    public IReadOnlyList<string> AddressesAt(string name) => [.. Records.Values.Where(r => r.Name == name && r.Type is "A" or "AAAA").Select(r => $"{r.Type} {r.Content}").Order(StringComparer.Ordinal)];

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await new StreamReader(request.Body).ReadToEndAsync();
        Requests.Enqueue(new Request(request.Method, request.Path.Value!, request.QueryString.Value ?? string.Empty, request.Headers.Authorization.ToString(), request.ContentType, body));
        await RouteAsync(context, body);
    }

    private Task RouteAsync(HttpContext context, string body)
    {
        var request = context.Request;
        lock (_lock)
        {
            if (Next429 > 0)
            {
                Next429--;
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Error(context, 429, 971, "Please wait and consider throttling your request speed");
            }

            if (Next500 > 0)
            {
                Next500--;
                return Error(context, 500, 10001, "Internal Server Error");
            }
        }

        var auth = request.Headers.Authorization.ToString();
        if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || !Tokens.TryGetValue(auth["Bearer ".Length..], out var token))
        {
            return Error(context, 401, 1000, "Invalid API Token");
        }

        var path = request.Path.Value!["/client/v4".Length..].TrimEnd('/');
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        bool Can(string permission) => token.Status == "active" && token.Permissions.Contains(permission);

        switch (request.Method, segments)
        {
            case ("GET", ["user", "tokens", "verify"]):
                return Ok(context, new JsonObject { ["id"] = "token-id", ["status"] = token.Status });

            case ("GET", ["zones"]):
                if (!Can("zone:read"))
                {
                    return Error(context, 403, 9109, "Unauthorized to access requested resource");
                }

                var name = request.Query["name"].ToString();
                List<(string Id, string Name)> zones;
                lock (_lock)
                {
                    zones = [.. Zones.Where(z => name.Length == 0 || z.Name == name)];
                }

                return Page(context, zones.Select(z => (JsonNode)new JsonObject { ["id"] = z.Id, ["name"] = z.Name, ["status"] = "active" }).ToList());

            case ("GET", ["zones", var zoneId]):
                if (!Can("zone:read"))
                {
                    return Error(context, 403, 9109, "Unauthorized to access requested resource");
                }

                var zone = FindZone(zoneId);
                return zone is null
                    ? Error(context, 404, 7003, $"Could not route to /zones/{zoneId}, perhaps your object identifier is invalid?")
                    : Ok(context, new JsonObject { ["id"] = zone.Value.Id, ["name"] = zone.Value.Name, ["status"] = "active" });

            case ("GET", ["zones", var zoneId, "dns_records"]):
                if (!Can("dns:read") && !Can("dns:edit"))
                {
                    return Error(context, 403, 10000, "Authentication error");
                }

                var type = request.Query["type"].ToString();
                var recordName = request.Query["name"].ToString();
                var records = Records.Values.Where(r => r.ZoneId == zoneId && (type.Length == 0 || r.Type == type) && (recordName.Length == 0 || r.Name == recordName))
                    .OrderBy(r => r.Created).Select(r => (JsonNode)r.ToJson()).ToList();
                return Page(context, records);

            case ("POST", ["zones", var zoneId, "dns_records"]):
                if (!Can("dns:edit"))
                {
                    return Error(context, 403, 10000, "Authentication error");
                }

                if (FindZone(zoneId) is not { } target)
                {
                    return Error(context, 404, 7003, $"Could not route to /zones/{zoneId}, perhaps your object identifier is invalid?");
                }

                var json = JsonNode.Parse(body)!;
                var created = new Record(
                    RandomNumberGenerator.GetHexString(32, lowercase: true),
                    zoneId,
                    json["type"]!.GetValue<string>(),
                    json["name"]!.GetValue<string>(),
                    json["content"]!.GetValue<string>(),
                    json["ttl"]?.GetValue<int>() ?? 1,
                    DateTimeOffset.UtcNow,
                    json["proxied"]?.GetValue<bool>() ?? false);
                if (created.Type is not ("TXT" or "A" or "AAAA") || !created.Name.EndsWith(target.Name, StringComparison.Ordinal))
                {
                    return Error(context, 400, 9000, "DNS name is invalid.");
                }

                if (created.Type == "A" && !(IPAddress.TryParse(created.Content, out var v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork))
                {
                    return Error(context, 400, 9005, "Content for A record is invalid. Must be a valid IPv4 address");
                }

                if (created.Type == "AAAA" && !(IPAddress.TryParse(created.Content, out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6))
                {
                    return Error(context, 400, 9006, "Content for AAAA record is invalid. Must be a valid IPv6 address");
                }

                if (created.Ttl != 1 && created.Ttl is < 60 or > 86_400)
                {
                    return Error(context, 400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.");
                }

                lock (_lock)
                {
                    if (Records.Values.Any(r => r.ZoneId == zoneId && r.Type == created.Type && r.Name == created.Name && r.Content == created.Content))
                    {
                        return Error(context, 400, 81058, "An identical record already exists.");
                    }

                    Records[created.Id] = created;
                }

                return created.Type == "TXT" ? MirrorThenAsync(created.Name, () => Ok(context, created.ToJson())) : Ok(context, created.ToJson());

            case ("DELETE", ["zones", var zoneId, "dns_records", var recordId]):
                if (!Can("dns:edit"))
                {
                    return Error(context, 403, 10000, "Authentication error");
                }

                if (!Records.TryGetValue(recordId, out var existing) || existing.ZoneId != zoneId)
                {
                    return Error(context, 404, 81044, "Record does not exist.");
                }

                Records.TryRemove(recordId, out _);
                return existing.Type != "TXT" ? Ok(context, new JsonObject { ["id"] = recordId }) : MirrorThenAsync(existing.Name, () => Ok(context, new JsonObject { ["id"] = recordId }));

            default:
                return Error(context, 404, 7000, "No route for that URI");
        }
    }

    private (string Id, string Name)? FindZone(string zoneId)
    {
        lock (_lock)
        {
            return Zones.FirstOrDefault(z => z.Id == zoneId) is { Id: not null } zone ? zone : null;
        }
    }

    /// <summary>Rewrites the name's TXT values in challtestsrv (it can only clear all values of a name).</summary>
    private async Task MirrorThenAsync(string name, Func<Task> respond)
    {
        if (ChallTestSrv is { } server)
        {
            var host = name + ".";
            (await _challTestSrv.PostAsJsonAsync(new Uri(server, "clear-txt"), new { host })).EnsureSuccessStatusCode();
            foreach (var record in TxtAt(name))
            {
                (await _challTestSrv.PostAsJsonAsync(new Uri(server, "set-txt"), new { host, value = record.Content.Trim('"') })).EnsureSuccessStatusCode();
            }
        }

        await respond();
    }

    private Task Page(HttpContext context, List<JsonNode> items)
    {
        var page = int.TryParse(context.Request.Query["page"], out var p) && p > 0 ? p : 1;
        var perPage = Math.Min(int.TryParse(context.Request.Query["per_page"], out var pp) && pp > 0 ? pp : 20, MaxPerPage);
        var slice = items.Skip((page - 1) * perPage).Take(perPage).ToList();
        var envelope = Envelope(true, new JsonArray([.. slice.Select(i => i.DeepClone())]), []);
        envelope["result_info"] = new JsonObject
        {
            ["page"] = page,
            ["per_page"] = perPage,
            ["count"] = slice.Count,
            ["total_count"] = items.Count,
            ["total_pages"] = Math.Max(1, (items.Count + perPage - 1) / perPage),
        };
        return Write(context, 200, envelope);
    }

    private static Task Ok(HttpContext context, JsonNode result) => Write(context, 200, Envelope(true, result, []));

    private static Task Error(HttpContext context, int status, int code, string message)
        => Write(context, status, Envelope(false, null, [new JsonObject { ["code"] = code, ["message"] = message }]));

    private static JsonObject Envelope(bool success, JsonNode? result, JsonNode[] errors) => new()
    {
        ["success"] = success,
        ["errors"] = new JsonArray(errors),
        ["messages"] = new JsonArray(),
        ["result"] = result,
    };

    private static Task Write(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _challTestSrv.Dispose();
    }

    public sealed record Record(string Id, string ZoneId, string Type, string Name, string Content, int Ttl, DateTimeOffset Created, bool Proxied = false)
    {
        public JsonObject ToJson() => new()
        {
            ["id"] = Id,
            ["zone_id"] = ZoneId,
            ["type"] = Type,
            ["name"] = Name,
            ["content"] = Content,
            ["ttl"] = Ttl,
            ["proxied"] = Proxied,
            ["created_on"] = Created.UtcDateTime.ToString("O"),
        };
    }

    public sealed record Request(string Method, string Path, string Query, string Authorization, string? ContentType, string Body);
}
