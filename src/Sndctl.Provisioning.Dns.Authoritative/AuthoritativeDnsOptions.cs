namespace Sndctl.Provisioning.Dns.Authoritative;

/// <summary>
/// The embedded authoritative DNS server (<c>Provisioning:Dns:Authoritative</c>): where it listens, and the
/// zone's name servers, TTL and SOA contact. The zone is <c>Provisioning:BaseDomain</c>.
/// </summary>
public sealed class AuthoritativeDnsOptions
{
    /// <summary>The addresses the server listens on, UDP and TCP, as <c>ip:port</c> (IPv6 in brackets).</summary>
    public static readonly IReadOnlyList<string> DefaultEndpoints = ["0.0.0.0:53", "[::]:53"];

    /// <summary>
    /// <c>ip:port</c> list to listen on, UDP and TCP (<c>:Endpoints</c>); empty means <see cref="DefaultEndpoints"/>.
    /// Port 53 needs <c>CAP_NET_BIND_SERVICE</c> (or a port mapping in front of an unprivileged port).
    /// </summary>
    public IList<string> Endpoints { get; } = [];

    /// <summary>
    /// The zone's name servers, served as its NS records (<c>:Nameservers:N:Name</c>, <c>:Addresses:M</c>): the
    /// names registered at the parent zone; addresses are required for names inside the zone (served as glue).
    /// </summary>
    public IList<AuthoritativeNameserver> Nameservers { get; } = [];

    /// <summary>TTL of every answer in seconds (<c>:Ttl</c>, default 60), also the SOA's negative-caching TTL.</summary>
    public int Ttl { get; set; } = 60;

    /// <summary>The SOA's responsible mailbox as an e-mail address (<c>:SoaEmail</c>); default <c>hostmaster@&lt;zone&gt;</c>.</summary>
    public string? SoaEmail { get; set; }

    /// <summary>
    /// How often each instance checks the database for records another instance changed (<c>:RefreshInterval</c>, default
    /// 1 s, at most 5 minutes). With the Entity Framework stores every change is noticed within one interval, and only the
    /// names changed are read again (from the zone's change log). A store without a change log is compared by its version:
    /// an addition (a challenge's TXT record, new addresses) is noticed within one interval, a removal alone at the next
    /// count of the records, every interval while counting is cheap, in a large zone every 100 times what a count costs (at
    /// most a minute), and each change reads the whole zone again.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>TCP connections served at once (<c>:MaxTcpConnections</c>, default 256); further clients wait in the listen backlog.</summary>
    public int MaxTcpConnections { get; set; } = 256;

    /// <summary>
    /// TCP connections one client network (IPv4 /24, IPv6 /56) may hold at once (<c>:MaxTcpConnectionsPerClient</c>,
    /// default 16, at most <see cref="MaxTcpConnections"/>); more are closed at once, so one host cannot take every slot.
    /// </summary>
    public int MaxTcpConnectionsPerClient { get; set; } = 16;

    /// <summary>
    /// How long a TCP client has to send each whole query, from the connection or its previous query
    /// (<c>:TcpIdleTimeout</c>, default 10 s); then the connection is closed, however the client paces its bytes.
    /// </summary>
    public TimeSpan TcpIdleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Response rate limiting over UDP (<c>:ResponsesPerSecond</c>, default 20; 0 turns it off): identical answers
    /// per second to one client network (IPv4 /24, IPv6 /56) beyond this are dropped or slipped (see
    /// <see cref="RateLimitSlip"/>), so the server is no amplifier for floods with a spoofed source.
    /// </summary>
    public int ResponsesPerSecond { get; set; } = 20;

    /// <summary>Every this many rate-limited answers one goes out truncated, telling a real client to ask over TCP (<c>:RateLimitSlip</c>, default 2; 0 drops all).</summary>
    public int RateLimitSlip { get; set; } = 2;

    /// <summary>Client networks tracked by response rate limiting at once (<c>:RateLimitTableSize</c>, default 100,000: a few MiB).</summary>
    public int RateLimitTableSize { get; set; } = 100_000;
}

/// <summary>One name server of the zone.</summary>
public sealed class AuthoritativeNameserver
{
    /// <summary>The name server's host name, e.g. <c>ns1.devices.example.com</c>.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Its IPv4/IPv6 addresses: served as glue when <see cref="Name"/> is inside the zone.</summary>
    public IList<string> Addresses { get; } = [];
}
