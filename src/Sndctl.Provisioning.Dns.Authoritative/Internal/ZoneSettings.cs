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
        var email = options.SoaEmail ?? "hostmaster@" + Zone;
        var at = email.IndexOf('@', StringComparison.Ordinal);
        Mailbox = new DomainName([email[..at], .. email[(at + 1)..].TrimEnd('.').Split('.')]);
    }

    public string Zone { get; }

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
