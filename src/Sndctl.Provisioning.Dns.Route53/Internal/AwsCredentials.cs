
namespace Sndctl.Provisioning.Dns.Route53.Internal;

/// <summary>AWS credentials: an access key, its secret, and a session token for temporary credentials.</summary>
/// <param name="AccessKeyId">The access key ID (<c>AKIA...</c> or <c>ASIA...</c>).</param>
/// <param name="SecretAccessKey">The secret access key.</param>
/// <param name="SessionToken">The session token of temporary credentials, if any.</param>
internal sealed record AwsCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken = null)
{
    /// <inheritdoc />
    public override string ToString() => $"AwsCredentials {{ AccessKeyId = {AccessKeyId}, SecretAccessKey = ***, SessionToken = {(SessionToken is null ? "none" : "***")} }}";
}
