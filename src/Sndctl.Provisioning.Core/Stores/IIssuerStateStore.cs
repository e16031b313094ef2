namespace Sndctl.Provisioning.Core;

/// <summary>
/// Small named values an issuer keeps across restarts and instances: the ACME account key,
/// the private CA's keys, the device-secret hash key. Callers encrypt secrets before storing them.
/// </summary>
public interface IIssuerStateStore
{
    /// <summary>The value stored under <paramref name="key"/>, or <see langword="null"/>.</summary>
    Task<string?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="key"/> unless a value exists already, and
    /// returns the value that is stored afterwards. Two instances racing at first start agree on one value.
    /// </summary>
    Task<string> GetOrAddAsync(string key, string value, CancellationToken cancellationToken);

    /// <summary>Stores or replaces the value under <paramref name="key"/>.</summary>
    Task SetAsync(string key, string value, CancellationToken cancellationToken);
}
