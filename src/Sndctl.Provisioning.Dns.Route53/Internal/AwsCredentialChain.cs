using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sndctl.Provisioning.Dns.Route53.Internal;

/// <summary>The process environment as the credential chain reads it (replaceable in tests, which must not share one).</summary>
internal sealed class AwsEnvironment(Func<string, string?> read)
{
    public static AwsEnvironment Process { get; } = new(Environment.GetEnvironmentVariable);

    /// <summary>The variable's value, or null when it is unset or empty.</summary>
    public string? this[string name] => read(name) is { Length: > 0 } value ? value : null;
}

/// <summary>
/// AWS credentials the way AWS runs workloads, in the order of the AWS SDKs' default chain: the options' static keys;
/// <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>; a web identity token (<c>AWS_WEB_IDENTITY_TOKEN_FILE</c> and
/// <c>AWS_ROLE_ARN</c>: IRSA on EKS) exchanged with STS <c>AssumeRoleWithWebIdentity</c>; the container credentials
/// endpoint (<c>AWS_CONTAINER_CREDENTIALS_FULL_URI</c> or <c>_RELATIVE_URI</c>: ECS tasks, EKS Pod Identity); the
/// instance metadata service, IMDSv2 (a session token, then the role's credentials). Temporary credentials are kept
/// until five minutes before they expire and fetched again by one caller while the others wait; none of them is
/// ever logged (the source, the key ID's first four characters and the expiry are).
/// </summary>
internal sealed partial class AwsCredentialChain(
    IOptionsMonitor<Route53DnsOptions> options,
    AwsEnvironment environment,
    IHttpClientFactory httpClients,
    TimeProvider time,
    ILogger<AwsCredentialChain> logger) : IDisposable
{
    /// <summary>The name of the HttpClient that asks STS, the container endpoint and IMDS.</summary>
    public const string HttpClientName = "Sndctl.Provisioning.Dns.Route53.Credentials";

    private static readonly TimeSpan RefreshAhead = TimeSpan.FromMinutes(5);
    private static readonly XNamespace Sts = "https://sts.amazonaws.com/doc/2011-06-15/";
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Fetched? _current;

    /// <summary>Where the credentials in use came from (for the self-check), after <see cref="GetAsync"/>.</summary>
    public string Source { get; private set; } = "none yet";

    public async ValueTask<AwsCredentials> GetAsync(CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        if (!string.IsNullOrEmpty(o.AccessKeyId) && !string.IsNullOrEmpty(o.SecretAccessKey))
        {
            Source = "Provisioning:Dns:Route53:AccessKeyId";
            return new AwsCredentials(o.AccessKeyId, o.SecretAccessKey, string.IsNullOrEmpty(o.SessionToken) ? null : o.SessionToken);
        }

        if (environment["AWS_ACCESS_KEY_ID"] is { } id && environment["AWS_SECRET_ACCESS_KEY"] is { } secret)
        {
            Source = "AWS_ACCESS_KEY_ID";
            return new AwsCredentials(id, secret, environment["AWS_SESSION_TOKEN"]);
        }

        if (Usable(_current) is { } current)
        {
            return current;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Usable(_current) is { } fetchedMeanwhile)
            {
                return fetchedMeanwhile;
            }

            var fetched = await FetchAsync(cancellationToken).ConfigureAwait(false);
            _current = fetched;
            Source = fetched.Source;
            Log.Obtained(logger, fetched.Source, fetched.Credentials.AccessKeyId[..Math.Min(4, fetched.Credentials.AccessKeyId.Length)], fetched.Expires);
            return fetched.Credentials;
        }
        finally
        {
            _refresh.Release();
        }
    }

    public void Dispose() => _refresh.Dispose();

    private AwsCredentials? Usable(Fetched? fetched)
        => fetched is not null && (fetched.Expires is null || fetched.Expires.Value - time.GetUtcNow() > RefreshAhead) ? fetched.Credentials : null;

    private Task<Fetched> FetchAsync(CancellationToken cancellationToken)
    {
        if (environment["AWS_WEB_IDENTITY_TOKEN_FILE"] is { } tokenFile && environment["AWS_ROLE_ARN"] is { } roleArn)
        {
            return WebIdentityAsync(tokenFile, roleArn, cancellationToken);
        }

        if (environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] is { } fullUri)
        {
            return ContainerAsync(fullUri, cancellationToken);
        }

        if (environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] is { } relativeUri)
        {
            return ContainerAsync("http://169.254.170.2" + relativeUri, cancellationToken);
        }

        if (!string.Equals(environment["AWS_EC2_METADATA_DISABLED"], "true", StringComparison.OrdinalIgnoreCase))
        {
            return InstanceMetadataAsync(cancellationToken);
        }

        throw Unavailable("none of the credential sources is set: give Provisioning:Dns:Route53:AccessKeyId and SecretAccessKey, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN), the container credentials endpoint, or run on EC2 with an instance role (docs/dns.md).");
    }

    /// <summary>STS <c>AssumeRoleWithWebIdentity</c> (an unsigned call: the token is the proof), the token file read afresh each time (Kubernetes rotates it).</summary>
    private async Task<Fetched> WebIdentityAsync(string tokenFile, string roleArn, CancellationToken cancellationToken)
    {
        string token;
        try
        {
            token = (await File.ReadAllTextAsync(tokenFile, cancellationToken).ConfigureAwait(false)).Trim();
        }
        catch (IOException ex)
        {
            throw Unavailable($"the web identity token file {tokenFile} (AWS_WEB_IDENTITY_TOKEN_FILE) cannot be read: {ex.Message}");
        }

        var endpoint = environment["AWS_ENDPOINT_URL_STS"] is { } configured ? new Uri(configured.TrimEnd('/') + "/")
            : environment["AWS_REGION"] is { } region ? new Uri($"https://sts.{region}.amazonaws.com/")
            : new Uri("https://sts.amazonaws.com/");
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Action"] = "AssumeRoleWithWebIdentity",
                ["Version"] = "2011-06-15",
                ["RoleArn"] = roleArn,
                ["RoleSessionName"] = environment["AWS_ROLE_SESSION_NAME"] ?? "sndctl-provisioning-" + time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                ["WebIdentityToken"] = token,
                ["DurationSeconds"] = "3600",
            }),
        };
        var (status, body) = await SendAsync(request, "STS AssumeRoleWithWebIdentity", cancellationToken).ConfigureAwait(false);
        XDocument document;
        try
        {
            document = XDocument.Parse(body);
        }
        catch (System.Xml.XmlException)
        {
            throw Unavailable($"STS answered {(int)status} with no XML");
        }

        if (status != HttpStatusCode.OK)
        {
            var error = document.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
            var code = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Code")?.Value ?? "Unknown";
            var message = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value;
            throw Unavailable($"STS refused AssumeRoleWithWebIdentity for {roleArn}: {code} ({message})", status, code);
        }

        var credentials = document.Descendants(Sts + "Credentials").FirstOrDefault() ?? throw Unavailable("STS answered without Credentials");
        string Field(string name) => credentials.Element(Sts + name)?.Value is { Length: > 0 } value ? value : throw Unavailable($"STS answered without {name}");
        return new Fetched(
            new AwsCredentials(Field("AccessKeyId"), Field("SecretAccessKey"), Field("SessionToken")),
            DateTimeOffset.Parse(Field("Expiration"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
            "web identity (" + roleArn + ")");
    }

    /// <summary>The ECS / EKS Pod Identity endpoint: JSON credentials, with the authorization token when one is given.</summary>
    private async Task<Fetched> ContainerAsync(string uri, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var endpoint) || !AllowedContainerEndpoint(endpoint))
        {
            throw Unavailable($"the container credentials endpoint {uri} is not https, loopback, or the ECS/EKS link-local address (169.254.170.2, 169.254.170.23, fd00:ec2::23)");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
        var authorization = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] is { } file
            ? (await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).Trim()
            : environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"];
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var (status, body) = await SendAsync(request, "the container credentials endpoint", cancellationToken).ConfigureAwait(false);
        return status == HttpStatusCode.OK
            ? FromJson(body, "container credentials endpoint")
            : throw Unavailable($"the container credentials endpoint answered {(int)status}", status);
    }

    /// <summary>IMDSv2: PUT a session token, then the instance role's name and its credentials with that token.</summary>
    private async Task<Fetched> InstanceMetadataAsync(CancellationToken cancellationToken)
    {
        var root = new Uri((environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254").TrimEnd('/') + "/");
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Put, new Uri(root, "latest/api/token"));
        tokenRequest.Headers.Add("X-aws-ec2-metadata-token-ttl-seconds", "21600");
        var (tokenStatus, token) = await SendAsync(tokenRequest, "the instance metadata service (IMDSv2)", cancellationToken).ConfigureAwait(false);
        if (tokenStatus != HttpStatusCode.OK)
        {
            throw Unavailable($"the instance metadata service answered {(int)tokenStatus} for a session token", tokenStatus);
        }

        using var roleRequest = new HttpRequestMessage(HttpMethod.Get, new Uri(root, "latest/meta-data/iam/security-credentials/"));
        roleRequest.Headers.Add("X-aws-ec2-metadata-token", token);
        var (roleStatus, roles) = await SendAsync(roleRequest, "the instance metadata service (IMDSv2)", cancellationToken).ConfigureAwait(false);
        var role = roles.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (roleStatus != HttpStatusCode.OK || role is null)
        {
            throw Unavailable($"this instance has no IAM role (the metadata service answered {(int)roleStatus})", roleStatus);
        }

        using var credentialsRequest = new HttpRequestMessage(HttpMethod.Get, new Uri(root, "latest/meta-data/iam/security-credentials/" + Uri.EscapeDataString(role)));
        credentialsRequest.Headers.Add("X-aws-ec2-metadata-token", token);
        var (status, body) = await SendAsync(credentialsRequest, "the instance metadata service (IMDSv2)", cancellationToken).ConfigureAwait(false);
        return status == HttpStatusCode.OK
            ? FromJson(body, "instance role " + role)
            : throw Unavailable($"the instance metadata service answered {(int)status} for the credentials of role {role}", status);
    }

    private static bool AllowedContainerEndpoint(Uri endpoint)
        => endpoint.Scheme == Uri.UriSchemeHttps
            || (endpoint.Scheme == Uri.UriSchemeHttp && (endpoint.IsLoopback
                || (IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var address) && (address.Equals(IPAddress.Parse("169.254.170.2")) || address.Equals(IPAddress.Parse("169.254.170.23")) || address.Equals(IPAddress.Parse("fd00:ec2::23"))))));

    private Fetched FromJson(string body, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            string Field(string name) => root.TryGetProperty(name, out var value) && value.GetString() is { Length: > 0 } text ? text : throw Unavailable($"the {source} answered without {name}");
            if (root.TryGetProperty("Code", out var code) && code.GetString() is { } outcome && outcome != "Success")
            {
                throw Unavailable($"the {source} answered Code {outcome}");
            }

            return new Fetched(
                new AwsCredentials(Field("AccessKeyId"), Field("SecretAccessKey"), Field("Token")),
                root.TryGetProperty("Expiration", out var expiration) && expiration.GetString() is { } at ? DateTimeOffset.Parse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : time.GetUtcNow().AddMinutes(15),
                source);
        }
        catch (JsonException)
        {
            throw Unavailable($"the {source} answered with no JSON");
        }
    }

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        var client = httpClients.CreateClient(HttpClientName);
        try
        {
            using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw Unavailable($"{what} did not answer ({ex.GetBaseException().Message})");
        }
    }

    private static Route53ApiException Unavailable(string reason, HttpStatusCode status = HttpStatusCode.ServiceUnavailable, string code = "CredentialsUnavailable")
        => new($"No AWS credentials for Route53: {reason}.", status, code, [reason], null);

    private sealed record Fetched(AwsCredentials Credentials, DateTimeOffset? Expires, string Source);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "AWS credentials for Route53 from {Source}: key {KeyIdPrefix}…, valid until {Expires:u}.")]
        public static partial void Obtained(ILogger logger, string source, string keyIdPrefix, DateTimeOffset? expires);
    }
}
