using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.Testing;

/// <summary>
/// Loopback stand-ins for where AWS workloads get their credentials, following AWS's published contracts: STS
/// <c>AssumeRoleWithWebIdentity</c> (form POST, XML answer or <c>ErrorResponse</c>), the container credentials endpoint
/// (ECS / EKS Pod Identity: JSON, <c>Authorization</c> header) and IMDSv2 (a PUT for a session token, then the role
/// and its JSON credentials only with that token; IMDSv1 GETs refused). Every credential handed out is registered with
/// <see cref="FakeRoute53"/> (key, secret, session token), which checks the signatures made with it.
/// </summary>
public sealed class FakeAwsCredentials : IAsyncDisposable
{
    private static readonly XNamespace Sts = "https://sts.amazonaws.com/doc/2011-06-15/";
    private readonly WebApplication _app;
    private readonly FakeRoute53 _route53;
    private readonly string[] _actions;
    private int _issued;

    private FakeAwsCredentials(WebApplication app, FakeRoute53 route53, string[] actions) => (_app, _route53, _actions) = (app, route53, actions);

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The web identity token STS accepts, and the role it may assume.</summary>
    public string WebIdentityToken { get; set; } = "eyJhbGciOiJSUzI1NiJ9.sndctl-test-web-identity.signature";

    public string RoleArn { get; set; } = "arn:aws:iam::123456789012:role/sndctl-provisioning";

    /// <summary>The <c>Authorization</c> value the container endpoint requires.</summary>
    public string ContainerAuthorization { get; set; } = "container-authorization-token-0123";

    /// <summary>How long handed-out credentials live.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Calls per endpoint: <c>sts</c>, <c>container</c>, <c>imds-token</c>, <c>imds-role</c>, <c>imds-credentials</c>, <c>imds-refused</c>.</summary>
    public ConcurrentDictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

    /// <summary>Every secret handed out (secret keys and session tokens): none may appear in a log.</summary>
    public ConcurrentBag<string> Secrets { get; } = [];

    public static async Task<FakeAwsCredentials> StartAsync(FakeRoute53 route53, string[] actions)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var fake = new FakeAwsCredentials(app, route53, actions);
        app.MapPost("/sts/", (Func<HttpContext, Task<IResult>>)fake.StsAsync);
        app.MapGet("/container/credentials", (Func<HttpContext, IResult>)fake.Container);
        app.MapPut("/latest/api/token", (Func<HttpContext, IResult>)fake.ImdsToken);
        app.MapGet("/latest/meta-data/iam/security-credentials/", (HttpContext c) => fake.Imds(c, "imds-role", () => Results.Text("sndctl-instance-role\n")));
        app.MapGet("/latest/meta-data/iam/security-credentials/{role}", (HttpContext c, string role) => fake.Imds(c, "imds-credentials", () => role == "sndctl-instance-role"
            ? Results.Json(fake.Issue(json: true))
            : Results.NotFound()));
        await app.StartAsync();
        fake.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return fake;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task<IResult> StsAsync(HttpContext context)
    {
        Count("sts");
        var form = await context.Request.ReadFormAsync();
        if (form["Action"] != "AssumeRoleWithWebIdentity" || form["Version"] != "2011-06-15" || string.IsNullOrEmpty(form["RoleSessionName"]))
        {
            return StsError(HttpStatusCode.BadRequest, "InvalidAction", "Could not find operation for this version.");
        }

        if (form["WebIdentityToken"] != WebIdentityToken)
        {
            return StsError(HttpStatusCode.BadRequest, "InvalidIdentityToken", "The web identity token that was passed could not be validated by AWS.");
        }

        if (form["RoleArn"] != RoleArn)
        {
            return StsError(HttpStatusCode.Forbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
        }

        var (id, secret, token, expiration) = Issue();
        var document = new XDocument(new XElement(Sts + "AssumeRoleWithWebIdentityResponse",
            new XElement(Sts + "AssumeRoleWithWebIdentityResult",
                new XElement(Sts + "SubjectFromWebIdentityToken", "system:serviceaccount:sndctl:provisioning"),
                new XElement(Sts + "AssumedRoleUser", new XElement(Sts + "Arn", RoleArn.Replace(":role/", ":assumed-role/", StringComparison.Ordinal) + "/" + form["RoleSessionName"]), new XElement(Sts + "AssumedRoleId", "AROA000000000000:" + form["RoleSessionName"])),
                new XElement(Sts + "Credentials",
                    new XElement(Sts + "SessionToken", token),
                    new XElement(Sts + "SecretAccessKey", secret),
                    new XElement(Sts + "Expiration", expiration.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)),
                    new XElement(Sts + "AccessKeyId", id))),
            new XElement(Sts + "ResponseMetadata", new XElement(Sts + "RequestId", Guid.NewGuid().ToString()))));
        return Results.Text(document.ToString(), "text/xml");
    }

    private static IResult StsError(HttpStatusCode status, string code, string message)
    {
        var document = new XDocument(new XElement(Sts + "ErrorResponse",
            new XElement(Sts + "Error", new XElement(Sts + "Type", "Sender"), new XElement(Sts + "Code", code), new XElement(Sts + "Message", message)),
            new XElement(Sts + "RequestId", Guid.NewGuid().ToString())));
        return Results.Text(document.ToString(), "text/xml", statusCode: (int)status);
    }

    private IResult Container(HttpContext context)
    {
        Count("container");
        return context.Request.Headers.Authorization.ToString() == ContainerAuthorization
            ? Results.Json(Issue(json: true))
            : Results.Json(new { code = "AccessDeniedException", message = "Unable to validate the authorization token" }, statusCode: 401);
    }

    private readonly ConcurrentDictionary<string, byte> _imdsTokens = new(StringComparer.Ordinal);

    private IResult ImdsToken(HttpContext context)
    {
        Count("imds-token");
        if (!int.TryParse(context.Request.Headers["X-aws-ec2-metadata-token-ttl-seconds"], CultureInfo.InvariantCulture, out var ttl) || ttl is < 1 or > 21600)
        {
            return Results.StatusCode(400);
        }

        var token = "AQAEA" + Guid.NewGuid().ToString("N");
        _imdsTokens[token] = 0;
        return Results.Text(token);
    }

    private IResult Imds(HttpContext context, string name, Func<IResult> answer)
    {
        if (!_imdsTokens.ContainsKey(context.Request.Headers["X-aws-ec2-metadata-token"].ToString()))
        {
            Count("imds-refused"); // IMDSv1 (no token) is off, as on instances that require IMDSv2
            return Results.StatusCode(401);
        }

        Count(name);
        return answer();
    }

    private (string Id, string Secret, string Token, DateTimeOffset Expiration) Issue()
    {
        var n = Interlocked.Increment(ref _issued);
        var id = $"ASIAFAKE{n:D12}";
        var secret = $"temporary/Secret/{Guid.NewGuid():N}";
        var token = $"FwoGZXIvYXdzE{Guid.NewGuid():N}{Guid.NewGuid():N}";
        _route53.Keys[id] = (secret, _actions, token);
        Secrets.Add(secret);
        Secrets.Add(token);
        return (id, secret, token, DateTimeOffset.UtcNow + Lifetime);
    }

    private Dictionary<string, string> Issue(bool json)
    {
        _ = json;
        var (id, secret, token, expiration) = Issue();
        return new Dictionary<string, string>
        {
            ["Code"] = "Success",
            ["LastUpdated"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["Type"] = "AWS-HMAC",
            ["AccessKeyId"] = id,
            ["SecretAccessKey"] = secret,
            ["Token"] = token,
            ["Expiration"] = expiration.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        };
    }

    private void Count(string name) => Calls.AddOrUpdate(name, 1, (_, n) => n + 1);
}
