namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// One ACME CA this deployment may order from: the primary (<see cref="Index"/> 0) or a fallback, with its
/// account settings, its own rate-limit gate (a <c>rateLimited</c> answer pauses only that CA) and the
/// client of its account once established (<see cref="AcmeAccountManager"/>).
/// </summary>
internal sealed class AcmeCertificateAuthority : IDisposable
{
    public AcmeCertificateAuthority(int index, Uri directoryUrl, string? email, string? externalAccountKeyId, string? externalAccountHmacKey, AcmeRateLimitGate gate)
    {
        Index = index;
        DirectoryUrl = directoryUrl;
        Email = email;
        ExternalAccountKeyId = externalAccountKeyId;
        ExternalAccountHmacKey = externalAccountHmacKey;
        Gate = gate;
    }

    /// <summary>0 for the primary, N for <c>Provisioning:Acme:Fallbacks:N-1</c>.</summary>
    public int Index { get; }

    public bool IsPrimary => Index == 0;

    public Uri DirectoryUrl { get; }

    public string? Email { get; }

    public string? ExternalAccountKeyId { get; }

    public string? ExternalAccountHmacKey { get; }

    public AcmeRateLimitGate Gate { get; }

    /// <summary>For logs, messages and the metrics' <c>ca</c> tag: <c>primary</c> or <c>fallback-N</c>.</summary>
    public string Label => IsPrimary ? "primary" : "fallback-" + Index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>What a certificate records as its CA (<see cref="Core.DeviceCertificate.CertificateAuthority"/>): the directory URL.</summary>
    public string Id => DirectoryUrl.AbsoluteUri;

    /// <summary>Whether a certificate recording <paramref name="certificateAuthority"/> came from this CA (none recorded: the primary, as before fallbacks existed).</summary>
    public bool Issued(string? certificateAuthority)
        => certificateAuthority is null ? IsPrimary : string.Equals(certificateAuthority, Id, StringComparison.Ordinal);

    // The account's client, made under the lock on first use (AcmeAccountManager).
    internal SemaphoreSlim Lock { get; } = new(1, 1);

    internal AcmeClient? Client;

    internal long DirectoryAnsweredAt;

    public override string ToString() => $"{Label} ({DirectoryUrl.Authority})";

    public void Dispose()
    {
        Lock.Dispose();
        Gate.Dispose();
    }
}
