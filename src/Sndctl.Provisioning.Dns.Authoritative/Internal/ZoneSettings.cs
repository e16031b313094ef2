using System.Net;
using ARSoft.Tools.Net;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>The zone's fixed part, read from the options once: apex, name servers with glue, SOA fields, TTL.</summary>
internal sealed class ZoneSettings
{
    public ZoneSettings(string zone, AuthoritativeDnsOptions options)
    {
        Zone = zone.TrimEnd('.').ToLowerInvariant();
        Apex = DomainName.Parse(Zone);
        Ttl = options.Ttl;
        Nameservers = options.Nameservers
            .Select(ns => (Name: ns.Name.TrimEnd('.').ToLowerInvariant(), ns.Addresses))
            .Select(ns => new Nameserver(DomainName.Parse(ns.Name), ns.Name, IsInZone(ns.Name) ? ns.Addresses.Select(IPAddress.Parse).ToList() : []))
            .ToList();
        // The names between the apex and an in-zone name server exist (empty non-terminals): NODATA, not NXDOMAIN.
        foreach (var ns in Nameservers.Where(ns => IsInZone(ns.Text)))
        {
            for (var name = ns.Text; name.Length > Zone.Length && name.IndexOf('.', StringComparison.Ordinal) is var dot and >= 0; name = name[(dot + 1)..])
            {
                _nameserverNames.Add(name);
            }
        }

        var email = options.SoaEmail ?? "hostmaster@" + Zone;
        var at = email.IndexOf('@', StringComparison.Ordinal);
        Mailbox = new DomainName([email[..at], .. email[(at + 1)..].TrimEnd('.').Split('.')]);
    }

    private readonly HashSet<string> _nameserverNames = new(StringComparer.Ordinal);

    public string Zone { get; }

    /// <summary>The in-zone name servers' names and the names between them and the apex.</summary>
    public IReadOnlyCollection<string> NameserverNames => _nameserverNames;

    /// <summary>Whether <paramref name="name"/> is an in-zone name server's name or a name above one (below the apex).</summary>
    public bool HoldsNameserver(string name) => _nameserverNames.Contains(name);

    public DomainName Apex { get; }

    public int Ttl { get; }

    public IReadOnlyList<Nameserver> Nameservers { get; }

    public DomainName Mailbox { get; }

    /// <summary>Whether <paramref name="name"/> (lower case, no trailing dot) is the apex or below it.</summary>
    public bool IsInZone(string name)
        => name.Length == Zone.Length ? name == Zone
            : name.Length > Zone.Length && name[^(Zone.Length + 1)] == '.' && name.EndsWith(Zone, StringComparison.Ordinal);

    internal sealed record Nameserver(DomainName Name, string Text, IReadOnlyList<IPAddress> Glue);
}
