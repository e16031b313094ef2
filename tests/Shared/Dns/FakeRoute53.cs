using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Testing;

/// <summary>
/// A local Route53 (API 2013-04-01, the calls DNS-01 uses) on Kestrel at 127.0.0.1, following the
/// published contract: every request must carry a valid Signature Version 4 (checked here with its
/// own implementation, not the client's), IAM-style permissions per action, the documented XML of
/// ListHostedZonesByName / ListResourceRecordSets (sorted, paginated with Next* markers),
/// transactional ChangeResourceRecordSets (CREATE / DELETE / UPSERT, DELETE must match exactly),
/// GetChange going PENDING → INSYNC, AWS error XML (<c>ErrorResponse</c>, and <c>InvalidChangeBatch</c>
/// with its messages), and Throttling / PriorRequestNotComplete / 503 on demand. Record sets can be
/// mirrored into a pebble-challtestsrv so a real ACME server validates what was placed.
/// </summary>
public sealed class FakeRoute53 : IAsyncDisposable
{
    public static readonly XNamespace Ns = "https://route53.amazonaws.com/doc/2013-04-01/";
    private readonly WebApplication _app;
    private readonly HttpClient _challTestSrv = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Zone, string Name, string Type), RecordSet> _sets = [];
    private readonly Dictionary<string, (DateTimeOffset Submitted, int Polls)> _changes = [];
    private int _changeCounter;

    private FakeRoute53(WebApplication app) => _app = app;

    public Uri ServiceUrl { get; private set; } = null!;

    /// <summary>Access key → secret, allowed actions (e.g. <c>route53:GetChange</c>), and the session token it requires, if any.</summary>
    public ConcurrentDictionary<string, (string Secret, string[] Actions, string? SessionToken)> Keys { get; } = new();

    public List<(string Id, string Name, bool Private)> Zones { get; } = [];

    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>Largest page handed out (Route53: 100 zones, 300 record sets).</summary>
    public int MaxItems { get; set; } = 100;

    /// <summary>GetChange answers PENDING this many times per change before INSYNC.</summary>
    public int PendingPolls { get; set; } = 2;

    public int NextThrottling { get; set; }

    public int NextPriorRequestNotComplete { get; set; }

    public int Next503 { get; set; }

    /// <summary>Signing region and clock tolerance, as AWS checks them.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>When set, TXT record sets are mirrored into this pebble-challtestsrv.</summary>
    public Uri? ChallTestSrv { get; set; }

    public static async Task<FakeRoute53> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var fake = new FakeRoute53(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        fake.ServiceUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return fake;
    }

    public string AddZone(string name, bool isPrivate = false)
    {
        var id = "Z" + RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 20);
        lock (_lock)
        {
            Zones.Add((id, Fqdn(name), isPrivate));
        }

        return id;
    }

    /// <summary>The TXT values (quoted, as stored) at a name in a zone.</summary>
    public IReadOnlyList<string> TxtAt(string zoneId, string name)
    {
        lock (_lock)
        {
            return _sets.TryGetValue((zoneId, Fqdn(name), "TXT"), out var set) ? [.. set.Values] : [];
        }
    }

    /// <summary>The A and AAAA record sets at <paramref name="name"/> as "TYPE ttl value", sorted.</summary>
    public IReadOnlyList<string> AddressesAt(string zoneId, string name)
    {
        lock (_lock)
        {
            return [.. ((string[])["A", "AAAA"])
                .SelectMany(type => _sets.TryGetValue((zoneId, Fqdn(name), type), out var set) ? set.Values.Select(v => $"{type} {set.Ttl} {v}") : [])
                .Order(StringComparer.Ordinal)];
        }
    }

    public long? TtlAt(string zoneId, string name)
    {
        lock (_lock)
        {
            return _sets.TryGetValue((zoneId, Fqdn(name), "TXT"), out var set) ? set.Ttl : null;
        }
    }

    /// <summary>Puts a record set in place as another writer would.</summary>
    public void Put(string zoneId, string name, string type, long ttl, params string[] values)
    {
        lock (_lock)
        {
            _sets[(zoneId, Fqdn(name), type)] = new RecordSet(ttl, [.. values]);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var rawTarget = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var request = new Request(context.Request.Method, rawTarget, context.Request.Headers.Authorization.ToString(), context.Request.ContentType, Encoding.UTF8.GetString(body));
        Requests.Enqueue(request);
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();

        (int Status, XDocument Document)? injected = null;
        lock (_lock)
        {
            if (Next503 > 0)
            {
                Next503--;
                injected = (503, ErrorDocument("Receiver", "ServiceUnavailable", "Service Unavailable"));
            }
            else if (NextThrottling > 0)
            {
                NextThrottling--;
                injected = (400, ErrorDocument("Sender", "Throttling", "Rate exceeded"));
            }
        }

        if (injected is { } error)
        {
            await WriteAsync(context, error.Status, error.Document);
            return;
        }

        var (key, failure) = Authenticate(context, rawTarget, body);
        if (failure is not null)
        {
            await WriteAsync(context, 403, failure);
            return;
        }

        var path = rawTarget.Split('?')[0];
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var query = context.Request.Query;
        switch (context.Request.Method, segments)
        {
            case ("GET", ["2013-04-01", "hostedzonesbyname"]):
                if (Denied(context, key, "route53:ListHostedZonesByName", "*", out var denied))
                {
                    await denied;
                    return;
                }

                await WriteAsync(context, 200, ListHostedZonesByName(query["dnsname"].ToString(), query["hostedzoneid"].ToString(), query["maxitems"].ToString()));
                return;

            case ("GET", ["2013-04-01", "hostedzone", var zoneId, "rrset"]):
                if (Denied(context, key, "route53:ListResourceRecordSets", "hostedzone/" + zoneId, out denied))
                {
                    await denied;
                    return;
                }

                if (!ZoneExists(zoneId))
                {
                    await Error(context, 404, "Sender", "NoSuchHostedZone", $"No hosted zone found with ID: {zoneId}");
                    return;
                }

                await WriteAsync(context, 200, ListResourceRecordSets(zoneId, query["name"].ToString(), query["type"].ToString(), query["maxitems"].ToString()));
                return;

            case ("POST", ["2013-04-01", "hostedzone", var zoneId, "rrset"]):
                if (Denied(context, key, "route53:ChangeResourceRecordSets", "hostedzone/" + zoneId, out denied))
                {
                    await denied;
                    return;
                }

                await ChangeResourceRecordSetsAsync(context, zoneId, request.Body);
                return;

            case ("GET", ["2013-04-01", "change", var changeId]):
                if (Denied(context, key, "route53:GetChange", "change/" + changeId, out denied))
                {
                    await denied;
                    return;
                }

                await GetChange(context, changeId);
                return;

            default:
                await Error(context, 404, "Sender", "UnknownOperationException", "Unknown operation");
                return;
        }
    }

    private XDocument ListHostedZonesByName(string dnsName, string startId, string maxItemsText)
    {
        var max = Math.Min(int.TryParse(maxItemsText, out var m) && m > 0 ? m : 100, MaxItems);
        List<(string Id, string Name, bool Private)> sorted;
        lock (_lock)
        {
            sorted = [.. Zones.OrderBy(z => Reversed(z.Name), StringComparer.Ordinal).ThenBy(z => z.Id, StringComparer.Ordinal)];
        }

        var start = dnsName.Length == 0 ? 0 : sorted.FindIndex(z =>
        {
            var order = string.CompareOrdinal(Reversed(z.Name), Reversed(Fqdn(dnsName)));
            return order > 0 || (order == 0 && (startId.Length == 0 || string.CompareOrdinal(z.Id, startId) >= 0));
        });
        var page = start < 0 ? [] : sorted.Skip(start).Take(max + 1).ToList();
        var truncated = page.Count > max;
        var root = new XElement(
            Ns + "ListHostedZonesByNameResponse",
            new XElement(Ns + "HostedZones", page.Take(max).Select(z => new XElement(
                Ns + "HostedZone",
                new XElement(Ns + "Id", "/hostedzone/" + z.Id),
                new XElement(Ns + "Name", z.Name),
                new XElement(Ns + "CallerReference", "ref-" + z.Id),
                new XElement(Ns + "Config", new XElement(Ns + "PrivateZone", z.Private ? "true" : "false")),
                new XElement(Ns + "ResourceRecordSetCount", "2")))),
            dnsName.Length > 0 ? new XElement(Ns + "DNSName", dnsName) : null,
            startId.Length > 0 ? new XElement(Ns + "HostedZoneId", startId) : null,
            new XElement(Ns + "IsTruncated", truncated ? "true" : "false"),
            truncated ? new XElement(Ns + "NextDNSName", page[max].Name) : null,
            truncated ? new XElement(Ns + "NextHostedZoneId", page[max].Id) : null,
            new XElement(Ns + "MaxItems", max.ToString(CultureInfo.InvariantCulture)));
        return new XDocument(root);
    }

    private XDocument ListResourceRecordSets(string zoneId, string name, string type, string maxItemsText)
    {
        var max = Math.Min(int.TryParse(maxItemsText, out var m) && m > 0 ? m : 300, 300);
        List<(string Name, string Type, RecordSet Set)> sorted;
        lock (_lock)
        {
            sorted = [.. _sets.Where(s => s.Key.Zone == zoneId).Select(s => (s.Key.Name, s.Key.Type, s.Value))
                .OrderBy(s => Reversed(s.Name), StringComparer.Ordinal).ThenBy(s => s.Type, StringComparer.Ordinal)];
        }

        var start = name.Length == 0 ? 0 : sorted.FindIndex(s =>
        {
            var order = string.CompareOrdinal(Reversed(s.Name), Reversed(Fqdn(name)));
            return order > 0 || (order == 0 && (type.Length == 0 || string.CompareOrdinal(s.Type, type) >= 0));
        });
        var page = start < 0 ? [] : sorted.Skip(start).Take(max + 1).ToList();
        var truncated = page.Count > max;
        return new XDocument(new XElement(
            Ns + "ListResourceRecordSetsResponse",
            new XElement(Ns + "ResourceRecordSets", page.Take(max).Select(s => new XElement(
                Ns + "ResourceRecordSet",
                new XElement(Ns + "Name", s.Name),
                new XElement(Ns + "Type", s.Type),
                new XElement(Ns + "TTL", s.Set.Ttl),
                new XElement(Ns + "ResourceRecords", s.Set.Values.Select(v => new XElement(Ns + "ResourceRecord", new XElement(Ns + "Value", v))))))),
            new XElement(Ns + "IsTruncated", truncated ? "true" : "false"),
            truncated ? new XElement(Ns + "NextRecordName", page[max].Name) : null,
            truncated ? new XElement(Ns + "NextRecordType", page[max].Type) : null,
            new XElement(Ns + "MaxItems", max.ToString(CultureInfo.InvariantCulture))));
    }

    private async Task ChangeResourceRecordSetsAsync(HttpContext context, string zoneId, string body)
    {
        if (!context.Request.ContentType?.StartsWith("application/xml", StringComparison.Ordinal) ?? true)
        {
            await Error(context, 400, "Sender", "InvalidInput", "Expected an XML body (Content-Type application/xml).");
            return;
        }

        XElement batch;
        try
        {
            var document = XDocument.Parse(body);
            if (document.Root?.Name != Ns + "ChangeResourceRecordSetsRequest")
            {
                await Error(context, 400, "Sender", "InvalidInput", "Root element must be ChangeResourceRecordSetsRequest in namespace " + Ns.NamespaceName);
                return;
            }

            batch = document.Root.Element(Ns + "ChangeBatch") ?? throw new FormatException("ChangeBatch missing");
        }
        catch (Exception ex) when (ex is System.Xml.XmlException or FormatException)
        {
            await Error(context, 400, "Sender", "InvalidInput", "Could not parse the request: " + ex.Message);
            return;
        }

        bool priorRequestPending;
        string? zoneName;
        lock (_lock)
        {
            priorRequestPending = NextPriorRequestNotComplete > 0;
            NextPriorRequestNotComplete = Math.Max(0, NextPriorRequestNotComplete - 1);
            zoneName = Zones.FirstOrDefault(z => z.Id == zoneId).Name;
        }

        if (priorRequestPending)
        {
            await Error(context, 400, "Sender", "PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request.");
            return;
        }

        if (zoneName is null)
        {
            await Error(context, 404, "Sender", "NoSuchHostedZone", $"No hosted zone found with ID: {zoneId}");
            return;
        }

        var messages = new List<string>();
        var touched = new HashSet<string>(StringComparer.Ordinal);
        string changeId;
        lock (_lock)
        {
            var working = new Dictionary<(string Zone, string Name, string Type), RecordSet>(_sets);
            foreach (var change in batch.Element(Ns + "Changes")?.Elements(Ns + "Change") ?? [])
            {
                var action = (string?)change.Element(Ns + "Action");
                var set = change.Element(Ns + "ResourceRecordSet");
                var name = Fqdn((string?)set?.Element(Ns + "Name") ?? string.Empty).ToLowerInvariant();
                var type = (string?)set?.Element(Ns + "Type") ?? string.Empty;
                var ttl = (long?)set?.Element(Ns + "TTL") ?? -1;
                List<string> values = [.. set?.Element(Ns + "ResourceRecords")?.Elements(Ns + "ResourceRecord").Select(r => (string)r.Element(Ns + "Value")!) ?? []];
                var key = (zoneId, name, type);
                if (!name.EndsWith("." + zoneName, StringComparison.Ordinal) && name != zoneName)
                {
                    messages.Add($"RRSet with DNS name {name} is not permitted in zone {zoneName}");
                    continue;
                }

                if (type == "TXT" && values.Any(v => v.Length < 2 || v[0] != '"' || v[^1] != '"'))
                {
                    messages.Add("Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '" + values[0] + "''");
                    continue;
                }

                if (type == "A" && values.FirstOrDefault(v => !(IPAddress.TryParse(v, out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && v.Count(c => c == '.') == 3)) is { } badV4)
                {
                    messages.Add($"Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '{badV4}''");
                    continue;
                }

                if (type == "AAAA" && values.FirstOrDefault(v => !(IPAddress.TryParse(v, out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)) is { } badV6)
                {
                    messages.Add($"Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '{badV6}''");
                    continue;
                }

                touched.Add(name);
                switch (action)
                {
                    case "CREATE" when working.ContainsKey(key):
                        messages.Add($"Tried to create resource record set [name='{name}', type='{type}'] but it already exists");
                        break;
                    case "CREATE" or "UPSERT" when values.Count == 0 || ttl < 0:
                        messages.Add($"Invalid request: Expected TTL and at least one ResourceRecord for [name='{name}', type='{type}']");
                        break;
                    case "CREATE" or "UPSERT":
                        working[key] = new RecordSet(ttl, values);
                        break;
                    case "DELETE" when !working.TryGetValue(key, out var existing) || existing.Ttl != ttl || !existing.Values.SequenceEqual(values):
                        messages.Add($"Tried to delete resource record set [name='{name}', type='{type}'] but the values provided do not match the current values");
                        break;
                    case "DELETE":
                        working.Remove(key);
                        break;
                    default:
                        messages.Add($"Invalid Action '{action}'");
                        break;
                }
            }

            if (messages.Count == 0)
            {
                _sets.Clear();
                foreach (var (key, value) in working)
                {
                    _sets[key] = value;
                }
            }

            changeId = "C" + Interlocked.Increment(ref _changeCounter).ToString("D12", CultureInfo.InvariantCulture);
            if (messages.Count == 0)
            {
                _changes[changeId] = (DateTimeOffset.UtcNow, 0);
            }
        }

        if (messages.Count > 0)
        {
            await WriteAsync(context, 400, new XDocument(new XElement(
                Ns + "InvalidChangeBatch",
                new XElement(Ns + "Messages", messages.Select(m => new XElement(Ns + "Message", m))),
                new XElement(Ns + "RequestId", Guid.NewGuid().ToString()))));
            return;
        }

        foreach (var name in touched)
        {
            await MirrorAsync(zoneId, name);
        }

        await WriteAsync(context, 200, new XDocument(new XElement(Ns + "ChangeResourceRecordSetsResponse", ChangeInfo(changeId, "PENDING", DateTimeOffset.UtcNow))));
    }

    private Task GetChange(HttpContext context, string changeId)
    {
        string status;
        DateTimeOffset submitted;
        lock (_lock)
        {
            if (!_changes.TryGetValue(changeId, out var change))
            {
                return Error(context, 404, "Sender", "NoSuchChange", $"A change with the specified change ID does not exist: {changeId}");
            }

            status = change.Polls >= PendingPolls ? "INSYNC" : "PENDING";
            _changes[changeId] = (change.Submitted, change.Polls + 1);
            submitted = change.Submitted;
        }

        return WriteAsync(context, 200, new XDocument(new XElement(Ns + "GetChangeResponse", ChangeInfo(changeId, status, submitted))));
    }

    private static XElement ChangeInfo(string id, string status, DateTimeOffset submitted) => new(
        Ns + "ChangeInfo",
        new XElement(Ns + "Id", "/change/" + id),
        new XElement(Ns + "Status", status),
        new XElement(Ns + "SubmittedAt", submitted.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)));

    /// <summary>Checks Signature Version 4 as AWS does, from what arrived on the wire.</summary>
    private (string? Key, XDocument? Failure) Authenticate(HttpContext context, string rawTarget, byte[] body)
    {
        var headers = context.Request.Headers;
        var authorization = headers.Authorization.ToString();
        const string Prefix = "AWS4-HMAC-SHA256 ";
        if (!authorization.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return (null, ErrorDocument("Sender", "MissingAuthenticationToken", "Missing Authentication Token"));
        }

        var parts = authorization[Prefix.Length..].Split(',', StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        if (!parts.TryGetValue("Credential", out var credential) || !parts.TryGetValue("SignedHeaders", out var signedHeaders) || !parts.TryGetValue("Signature", out var signature))
        {
            return (null, ErrorDocument("Sender", "IncompleteSignature", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters."));
        }

        var scope = credential.Split('/');
        if (scope.Length != 5 || scope[4] != "aws4_request")
        {
            return (null, ErrorDocument("Sender", "IncompleteSignature", "Credential should be scoped to a valid region, service and aws4_request."));
        }

        if (!Keys.TryGetValue(scope[0], out var key))
        {
            return (null, ErrorDocument("Sender", "InvalidClientTokenId", "The security token included in the request is invalid."));
        }

        var amzDate = headers["X-Amz-Date"].ToString();
        if (!DateTimeOffset.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when)
            || Math.Abs((DateTimeOffset.UtcNow - when).TotalMinutes) > 5)
        {
            return (null, ErrorDocument("Sender", "SignatureDoesNotMatch", $"Signature expired or X-Amz-Date missing: {amzDate}"));
        }

        if (scope[1] != amzDate[..8] || scope[2] != Region || scope[3] != "route53")
        {
            return (null, ErrorDocument("Sender", "SignatureDoesNotMatch", $"Credential should be scoped to a valid region, not '{scope[2]}', and service 'route53', not '{scope[3]}'."));
        }

        var names = signedHeaders.Split(';');
        if (!names.Contains("host") || !names.Contains("x-amz-date") || (key.SessionToken is not null && !names.Contains("x-amz-security-token")))
        {
            return (null, ErrorDocument("Sender", "SignatureDoesNotMatch", "SignedHeaders must include host and x-amz-date (and x-amz-security-token with temporary credentials)."));
        }

        if (key.SessionToken is not null && headers["X-Amz-Security-Token"].ToString() != key.SessionToken)
        {
            return (null, ErrorDocument("Sender", "InvalidClientTokenId", "The security token included in the request is invalid."));
        }

        var target = rawTarget.Split('?', 2);
        var canonicalQuery = target.Length < 2 ? string.Empty : string.Join('&', target[1].Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (Name: AwsEncode(Uri.UnescapeDataString(p[0])), Value: AwsEncode(p.Length > 1 ? Uri.UnescapeDataString(p[1]) : string.Empty)))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => p.Name + "=" + p.Value));
        var canonicalPath = string.Join('/', target[0].Split('/').Select(s => AwsEncode(Uri.UnescapeDataString(s))));
        var canonicalHeaders = string.Concat(names.Select(n => n + ":" + string.Join(' ', (n == "host" ? context.Request.Host.Value ?? string.Empty : headers[n].ToString()).Split(' ', StringSplitOptions.RemoveEmptyEntries)) + "\n"));
        var canonicalRequest = $"{context.Request.Method}\n{canonicalPath}\n{canonicalQuery}\n{canonicalHeaders}\n{signedHeaders}\n{Hex(SHA256.HashData(body))}";
        var stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{string.Join('/', scope[1..])}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        var signingKey = Encoding.UTF8.GetBytes("AWS4" + key.Secret);
        foreach (var part in new[] { scope[1], scope[2], scope[3], "aws4_request" })
        {
            signingKey = HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(part));
        }

        var expected = Hex(HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(stringToSign)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature))
            ? (scope[0], null)
            : (null, ErrorDocument("Sender", "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."));
    }

    private bool Denied(HttpContext context, string? key, string action, string resource, out Task response)
    {
        if (key is not null && Keys.TryGetValue(key, out var entry) && entry.Actions.Contains(action))
        {
            response = Task.CompletedTask;
            return false;
        }

        response = Error(context, 403, "Sender", "AccessDenied", $"User: arn:aws:iam::123456789012:user/provisioning is not authorized to perform: {action} on resource: arn:aws:route53:::{resource}");
        return true;
    }

    private bool ZoneExists(string zoneId)
    {
        lock (_lock)
        {
            return Zones.Any(z => z.Id == zoneId);
        }
    }

    /// <summary>Rewrites the name's TXT values in challtestsrv (it can only clear all values of a name).</summary>
    private async Task MirrorAsync(string zoneId, string name)
    {
        if (ChallTestSrv is { } server)
        {
            (await _challTestSrv.PostAsJsonAsync(new Uri(server, "clear-txt"), new { host = name })).EnsureSuccessStatusCode();
            foreach (var value in TxtAt(zoneId, name))
            {
                (await _challTestSrv.PostAsJsonAsync(new Uri(server, "set-txt"), new { host = name, value = value.Trim('"') })).EnsureSuccessStatusCode();
            }
        }
    }

    private static Task Error(HttpContext context, int status, string type, string code, string message) => WriteAsync(context, status, ErrorDocument(type, code, message));

    private static XDocument ErrorDocument(string type, string code, string message) => new(new XElement(
        Ns + "ErrorResponse",
        new XElement(Ns + "Error", new XElement(Ns + "Type", type), new XElement(Ns + "Code", code), new XElement(Ns + "Message", message)),
        new XElement(Ns + "RequestId", Guid.NewGuid().ToString())));

    private static Task WriteAsync(HttpContext context, int status, XDocument document)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/xml";
        return context.Response.WriteAsync("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + document.ToString(SaveOptions.DisableFormatting));
    }

    private static string Fqdn(string name) => name.TrimEnd('.') + ".";

    /// <summary>Route53 orders names by their labels reversed: <c>com.example.www</c>.</summary>
    private static string Reversed(string name) => string.Join('.', name.TrimEnd('.').Split('.').Reverse());

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static string AwsEncode(string value)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            builder.Append(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~' ? ((char)b).ToString() : "%" + b.ToString("X2", CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _challTestSrv.Dispose();
    }

    public sealed record RecordSet(long Ttl, List<string> Values);

    public sealed record Request(string Method, string RawTarget, string Authorization, string? ContentType, string Body);
}
