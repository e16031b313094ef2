
namespace Sndctl.Provisioning.Acme;

/// <summary>An identifier in an order or authorization.</summary>
/// <param name="Type"><c>dns</c> or <c>ip</c>.</param>
/// <param name="Value">The name or address.</param>
public sealed record AcmeIdentifier(string Type, string Value)
{
    /// <summary>A DNS name identifier.</summary>
    public static AcmeIdentifier Dns(string name) => new("dns", name);
}
