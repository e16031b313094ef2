using System.Security.Cryptography;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>
/// This instance's name in the zone's change log (one per service provider, random): its own entries are left out of
/// what it reads back, since it took its changes in as it wrote them.
/// </summary>
internal sealed class ZoneChangeSource
{
    public string Value { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
}
