using Microsoft.Extensions.Time.Testing;
using Sndctl.Provisioning.Acme.Internal;

namespace Sndctl.Provisioning.Acme.Tests;

/// <summary>
/// After a crash, the next attempt asks the CA about the order the dead process placed: valid is
/// downloaded (nothing new is ordered), ready or processing is finalized, pending carries on with its
/// challenge, and anything unusable is ordered afresh.
/// </summary>
public sealed class AcmeOrderResumptionTests
{
    private const string Hostname = "abc123.devices.example.com";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData("valid", true, "Download")]
    [InlineData("valid", false, "Restart")] // valid without a certificate URL: nothing to download
    [InlineData("ready", false, "Finalize")]
    [InlineData("processing", false, "Finalize")]
    [InlineData("pending", false, "Continue")]
    [InlineData("invalid", false, "Restart")]
    [InlineData("deactivated", false, "Restart")]
    public void An_unexpired_order_is_resumed_by_its_status(string status, bool hasCertificate, string expected)
    {
        var order = Order(status, _time.GetUtcNow().AddDays(7), hasCertificate);

        Assert.Equal(Enum.Parse<AcmeOrderResumption>(expected), AcmeOrderResumption.Decide(order, Hostname, _time.GetUtcNow()));
    }

    [Theory]
    [InlineData("pending", "Restart")]
    [InlineData("ready", "Restart")]
    [InlineData("valid", "Download")] // the certificate of a valid order outlives the order
    public void An_expired_order_is_ordered_afresh_unless_its_certificate_is_issued(string status, string expected)
    {
        var order = Order(status, _time.GetUtcNow().AddDays(7), hasCertificate: status == "valid");
        _time.Advance(TimeSpan.FromDays(7));

        Assert.Equal(Enum.Parse<AcmeOrderResumption>(expected), AcmeOrderResumption.Decide(order, Hostname, _time.GetUtcNow()));
    }

    [Fact]
    public void An_order_for_another_name_is_never_resumed()
    {
        var order = Order("valid", _time.GetUtcNow().AddDays(7), hasCertificate: true) with { Identifiers = [AcmeIdentifier.Dns("other.devices.example.com")] };
        var twoNames = order with { Identifiers = [AcmeIdentifier.Dns(Hostname), AcmeIdentifier.Dns("other.devices.example.com")] };

        Assert.Equal(AcmeOrderResumption.Restart, AcmeOrderResumption.Decide(order, Hostname, _time.GetUtcNow()));
        Assert.Equal(AcmeOrderResumption.Restart, AcmeOrderResumption.Decide(twoNames, Hostname, _time.GetUtcNow()));
        Assert.Equal(AcmeOrderResumption.Download, AcmeOrderResumption.Decide(order with { Identifiers = [AcmeIdentifier.Dns(Hostname.ToUpperInvariant())] }, Hostname, _time.GetUtcNow()));
    }

    private static AcmeOrder Order(string status, DateTimeOffset expires, bool hasCertificate) => new()
    {
        Location = new Uri("https://ca.test/order/1"),
        Status = status,
        Expires = expires,
        Identifiers = [AcmeIdentifier.Dns(Hostname)],
        Authorizations = [new Uri("https://ca.test/authz/1")],
        Finalize = new Uri("https://ca.test/order/1/finalize"),
        Certificate = hasCertificate ? new Uri("https://ca.test/cert/1") : null,
    };
}
