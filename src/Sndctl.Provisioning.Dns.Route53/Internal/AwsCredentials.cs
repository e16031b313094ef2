
namespace Sndctl.Provisioning.Dns.Route53.Internal;

/// <summary>AWS credentials: an access key, its secret, and a session token for temporary credentials.</summary>
/// <param name="AccessKeyId">The access key ID (<c>AKIA...</c> or <c>ASIA...</c>).</param>
/// <param name="SecretAccessKey">The secret access key.</param>
/// <param name="SessionToken">The session token of temporary credentials, if any.</param>
internal sealed record AwsCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken = null)
{
    /// <summary>Reads <c>AWS_ACCESS_KEY_ID</c>, <c>AWS_SECRET_ACCESS_KEY</c> and <c>AWS_SESSION_TOKEN</c>; null when the first two are not set.</summary>
    public static AwsCredentials? FromEnvironment()
    {
        var id = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
        var secret = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
        return string.IsNullOrEmpty(id) || string.IsNullOrEmpty(secret)
            ? null
            : new AwsCredentials(id, secret, Environment.GetEnvironmentVariable("AWS_SESSION_TOKEN") is { Length: > 0 } token ? token : null);
    }

    /// <inheritdoc />
    public override string ToString() => $"AwsCredentials {{ AccessKeyId = {AccessKeyId}, SecretAccessKey = ***, SessionToken = {(SessionToken is null ? "none" : "***")} }}";
}
