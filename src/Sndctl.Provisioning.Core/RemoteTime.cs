namespace Sndctl.Provisioning.Core;

/// <summary>
/// The clock for waits on remote services: ACME polls, DNS API retries and backoff, DNS propagation
/// checks. It is the keyed <see cref="TimeProvider"/> registered under <see cref="ServiceKey"/>
/// (<see cref="TimeProvider.System"/> unless replaced), apart from the application clock (the unkeyed
/// <see cref="TimeProvider"/> that decides certificate lifetimes and renewal windows), so that a test
/// can move the application's time without freezing the polls of a real CA.
/// </summary>
public static class RemoteTime
{
    /// <summary>The service key of the remote-wait <see cref="TimeProvider"/>.</summary>
    public const string ServiceKey = "Sndctl.Provisioning.RemoteTime";
}
