using System.Text.Json.Serialization;

namespace Sndctl.Provisioning.Acme;

/// <summary>ACME Renewal Information for one certificate (RFC 9773 §4.2).</summary>
public sealed record AcmeRenewalInfo
{
    /// <summary>The window in which the CA wants the certificate renewed.</summary>
    public required AcmeRenewalWindow SuggestedWindow { get; init; }

    /// <summary>A page explaining an unusual window (for example a mass revocation).</summary>
    [JsonPropertyName("explanationURL")]
    public Uri? ExplanationUrl { get; init; }

    /// <summary>When to ask again (the response's <c>Retry-After</c>).</summary>
    [JsonIgnore]
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>
    /// A uniformly random time in the window, as RFC 9773 §4.2 recommends (so a fleet does not
    /// renew at one instant); the window start if the window is empty or reversed.
    /// </summary>
    /// <param name="random">The source of the pick; the shared <see cref="Random"/> when <see langword="null"/>.</param>
    public DateTimeOffset PickRenewalTime(Random? random = null)
    {
        var (start, end) = (SuggestedWindow.Start, SuggestedWindow.End);
        if (end <= start)
        {
            return start;
        }

#pragma warning disable RS0030 // A convenience of the standalone client's public API; the issuer passes the Random from DI.
        var offset = (long)((random ?? Random.Shared).NextDouble() * (end - start).Ticks);
#pragma warning restore RS0030
        return start + TimeSpan.FromTicks(offset);
    }
}
