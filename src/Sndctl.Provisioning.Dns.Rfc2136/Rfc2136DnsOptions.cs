namespace Sndctl.Provisioning.Dns.Rfc2136;

/// <summary>Options of the RFC 2136 (dynamic update) DNS provider: <c>Provisioning:Dns:Rfc2136</c>.</summary>
public sealed class Rfc2136DnsOptions
{
    /// <summary>The primary authoritative server that takes updates: <c>host:port</c> or an address (port 53 by default).</summary>
    public string Server { get; set; } = "";

    /// <summary>The zone to update (<c>example.com</c>); found from the server's SOA answer for the record's name when empty.</summary>
    public string? Zone { get; set; }

    /// <summary>The TSIG key's name, as the server knows it (<c>sndctl-provisioning</c>).</summary>
    public string TsigKeyName { get; set; } = "";

    /// <summary>The TSIG algorithm: <c>hmac-sha256</c> (default) or <c>hmac-sha512</c>.</summary>
    public string TsigAlgorithm { get; set; } = "hmac-sha256";

    /// <summary>The TSIG secret, base64 (what <c>tsig-keygen</c> or <c>keymgr -t</c> prints). Keep it in a secret store; it is never logged.</summary>
    public string TsigSecret { get; set; } = "";

    /// <summary>TTL of the records placed, seconds. Default 60.</summary>
    public int Ttl { get; set; } = 60;

    /// <summary>Longest wait for the server's answer to one update or query. Default 10 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Check the server, the zone and the key at start-up (an SOA query and a signed update that changes nothing) and log what is wrong. Default true.</summary>
    public bool VerifyOnStart { get; set; } = true;
}
