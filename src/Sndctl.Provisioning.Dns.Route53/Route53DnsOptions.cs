namespace Sndctl.Provisioning.Dns.Route53;

/// <summary>Options of the Route53 DNS provider.</summary>
public sealed class Route53DnsOptions
{
    /// <summary>
    /// The access key ID of an IAM identity allowed the calls in <c>docs/dns.md</c>. When this and
    /// <see cref="SecretAccessKey"/> are empty, the AWS credential chain is asked, in the AWS SDKs' order:
    /// <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>/<c>AWS_SESSION_TOKEN</c>; a web identity
    /// (<c>AWS_WEB_IDENTITY_TOKEN_FILE</c> and <c>AWS_ROLE_ARN</c>, IRSA) through STS; the container credentials
    /// endpoint (ECS, EKS Pod Identity); the EC2 instance role through IMDSv2. Temporary credentials are refreshed
    /// before they expire.
    /// </summary>
    public string? AccessKeyId { get; set; }

    /// <summary>The secret access key. Keep it in a secret store; it is never logged.</summary>
    public string? SecretAccessKey { get; set; }

    /// <summary>The session token of temporary credentials (STS), if any.</summary>
    public string? SessionToken { get; set; }

    /// <summary>
    /// The hosted zone's ID (<c>Z123...</c> or <c>/hostedzone/Z123...</c>); found from the record name
    /// with <c>ListHostedZonesByName</c> (longest match, public before private) when empty.
    /// </summary>
    public string? HostedZoneId { get; set; }

    /// <summary>The Route53 endpoint. Default <c>https://route53.amazonaws.com/</c>.</summary>
    public Uri ServiceUrl { get; set; } = new("https://route53.amazonaws.com/");

    /// <summary>The region in the signature's scope: <c>us-east-1</c> for Route53's global endpoint (<c>cn-northwest-1</c> in China).</summary>
    public string SigningRegion { get; set; } = "us-east-1";

    /// <summary>TTL of the TXT records, seconds. Default 60.</summary>
    public int Ttl { get; set; } = 60;

    /// <summary>Longest wait for one API call. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often throttling (<c>Throttling</c>, <c>PriorRequestNotComplete</c>, 429) and 5xx answers are retried, with backoff. Default 5.</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>Wait before the first retry; doubles with each further one (plus jitter), at most 30 s. Default 500 ms.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait for a change to reach <c>INSYNC</c> on all Route53 nameservers. Default 3 minutes.</summary>
    public TimeSpan SyncTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Pause between <c>GetChange</c> polls. Default 2 s.</summary>
    public TimeSpan SyncPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Check the credentials and the hosted zone at start-up and log what is wrong. Default true.</summary>
    public bool VerifyOnStart { get; set; } = true;
}
