namespace Sndctl.Provisioning.Testing;

/// <summary>
/// Knot DNS and BIND 9 as tests/dns-lab.sh starts them: each authoritative for <see cref="Zone"/> and taking updates
/// signed with the TSIG key <see cref="KeyName"/> (hmac-sha256, <see cref="Secret"/>).
/// </summary>
public sealed class Rfc2136Lab
{
    public required string Zone { get; init; }

    public required string KeyName { get; init; }

    public required string Secret { get; init; }

    /// <summary>A second key, hmac-sha512.</summary>
    public required string Sha512KeyName { get; init; }

    public required string Sha512Secret { get; init; }

    /// <summary><c>127.0.0.1:port</c> of Knot DNS.</summary>
    public required string Knot { get; init; }

    /// <summary><c>127.0.0.1:port</c> of BIND.</summary>
    public required string Bind { get; init; }

    /// <summary>The server by name (<c>knot</c>, <c>bind</c>).</summary>
    public string Server(string name) => name == "knot" ? Knot : Bind;

    /// <summary>The lab, or a skip (a failure in CI) when tests/run.sh did not start it.</summary>
    public static Rfc2136Lab Require()
    {
        static string Get(string name)
        {
            var value = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(value))
            {
                Assert.True(Environment.GetEnvironmentVariable("CI") != "true", $"{name} is not set: tests/run.sh starts Knot DNS and BIND (tests/dns-lab.sh) and sets it.");
                Assert.Skip($"{name} is not set; tests/dns-lab.sh starts Knot DNS and BIND.");
            }

            return value!;
        }

        return new Rfc2136Lab
        {
            Zone = Get("SNDCTL_TEST_RFC2136_ZONE"),
            KeyName = Get("SNDCTL_TEST_RFC2136_TSIG_NAME"),
            Secret = Get("SNDCTL_TEST_RFC2136_TSIG_SECRET"),
            Sha512KeyName = Get("SNDCTL_TEST_RFC2136_TSIG512_NAME"),
            Sha512Secret = Get("SNDCTL_TEST_RFC2136_TSIG512_SECRET"),
            Knot = Get("SNDCTL_TEST_RFC2136_KNOT"),
            Bind = Get("SNDCTL_TEST_RFC2136_BIND"),
        };
    }
}
