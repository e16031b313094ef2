
namespace Sndctl.Provisioning.Testing;

/// <summary>Where a pebble-challtestsrv management API listens.</summary>
public sealed class ChallTestSrvOptions
{
    /// <summary>The management URL, e.g. <c>http://127.0.0.1:8055</c>.</summary>
    public Uri? ManagementUrl { get; set; }
}
