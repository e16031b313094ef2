using Sndctl.Provisioning.Core.Internal;

namespace Sndctl.Provisioning.Core.Tests;

public sealed class RenewalTimingTests
{
    private static readonly DateTimeOffset NotBefore = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(90)]
    [InlineData(45)]
    [InlineData(6)]
    public void Default_renewal_is_in_the_last_third_spread_over_a_twentieth_of_the_lifetime(int days)
    {
        var notAfter = NotBefore.AddDays(days);
        var lifetime = notAfter - NotBefore;
        var random = new Random(days);
        var times = Enumerable.Range(0, 500).Select(_ => IssuedChain.DefaultRenewAfter(NotBefore, notAfter, random)).ToList();

        Assert.All(times, t => Assert.InRange(t, NotBefore + (lifetime * 2 / 3), NotBefore + (lifetime * 2 / 3) + (lifetime / 20)));
        Assert.True(times.Distinct().Count() > 400, "renewal times are spread, not one instant for the whole fleet");
    }

    [Fact]
    public void A_certificate_whose_notBefore_is_a_little_ahead_of_our_clock_is_still_served()
    {
        var certificate = Certificate(notBefore: NotBefore.AddSeconds(2));
        Assert.True(DeviceProvisioningService.CanServe(certificate, null, NotBefore));
        Assert.False(DeviceProvisioningService.CanServe(Certificate(notBefore: NotBefore.AddHours(1)), null, NotBefore));
    }

    [Fact]
    public void Revoked_expired_or_due_certificates_are_not_served()
    {
        Assert.False(DeviceProvisioningService.CanServe(Certificate(NotBefore, revoked: true), null, NotBefore.AddDays(1)));
        Assert.False(DeviceProvisioningService.CanServe(Certificate(NotBefore), null, NotBefore.AddDays(60)));
        Assert.False(DeviceProvisioningService.CanServe(Certificate(NotBefore), null, NotBefore.AddDays(91)));
        Assert.True(DeviceProvisioningService.CanServe(Certificate(NotBefore), null, NotBefore.AddDays(59)));
    }

    private static DeviceCertificate Certificate(DateTimeOffset notBefore, bool revoked = false) => new()
    {
        DeviceId = "abc123def456",
        Issuer = "Test",
        SerialNumber = "01",
        Thumbprint = "00",
        CertificatePem = string.Empty,
        ProtectedPrivateKey = "protected",
        NotBefore = notBefore,
        NotAfter = notBefore.AddDays(90),
        RenewAfter = notBefore.AddDays(60),
        IssuedAt = notBefore,
        RevokedAt = revoked ? notBefore : null,
    };
}
