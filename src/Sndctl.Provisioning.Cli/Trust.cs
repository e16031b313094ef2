using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sndctl.Provisioning.Cli;

/// <summary>
/// What the CLI trusts as the CA's root: a root certificate file (<c>--root</c>), or the root the server hands out
/// when its SHA-256 fingerprint is the one given (<c>--fingerprint</c>, hex, colons optional), or — with neither — the
/// server's root over a connection that is HTTPS or stays on this machine, its fingerprint printed to compare.
/// </summary>
internal sealed class Trust
{
    private Trust(X509Certificate2? root, string? fingerprint) => (Root, Fingerprint) = (root, fingerprint);

    /// <summary>The root given with <c>--root</c>; null otherwise (it comes from the server, checked against <see cref="Fingerprint"/>).</summary>
    public X509Certificate2? Root { get; }

    /// <summary>The expected SHA-256 fingerprint, upper-case hex without colons; null when none was given.</summary>
    public string? Fingerprint { get; }

    /// <summary>Whether the user pinned the CA (a root file or a fingerprint).</summary>
    public bool Pinned => Root is not null || Fingerprint is not null;

    public static bool TryCreate(string? rootFile, string? fingerprint, out Trust trust, out string? problem)
    {
        trust = new Trust(null, null);
        problem = null;
        X509Certificate2? root = null;
        if (rootFile is not null)
        {
            try
            {
                root = X509Certificate2.CreateFromPem(File.ReadAllText(rootFile));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                problem = $"--root {rootFile} cannot be read as a PEM certificate: {ex.Message}";
                return false;
            }
        }

        string? normalized = null;
        if (fingerprint is not null)
        {
            normalized = fingerprint.Replace(":", string.Empty, StringComparison.Ordinal).Trim().ToUpperInvariant();
            if (normalized.Length != 64 || !normalized.All(Uri.IsHexDigit))
            {
                problem = $"--fingerprint '{fingerprint}' is not a SHA-256 fingerprint (64 hex digits, colons optional).";
                return false;
            }

            if (root is not null && !string.Equals(Of(root), normalized, StringComparison.Ordinal))
            {
                problem = $"--root {rootFile} does not have the fingerprint given with --fingerprint.";
                return false;
            }
        }

        trust = new Trust(root, normalized);
        return true;
    }

    public static string Of(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>The fingerprint as people compare it: pairs of hex digits with colons.</summary>
    public static string Display(string fingerprint) => string.Join(':', fingerprint.Chunk(2).Select(pair => new string(pair)));

    /// <summary>For HTTPS to the CA: the system's roots, and the pinned root too (a CA serving its API under its own root).</summary>
    public bool ValidateServer(X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (Root is null || certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(Root);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(certificate);
    }

    /// <summary>Whether <paramref name="chainPem"/> (leaf, then intermediates) chains to <paramref name="root"/>.</summary>
    public static bool Chains(string chainPem, X509Certificate2 root, out X509Certificate2 leaf)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(chainPem);
        leaf = certificates[0];
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        foreach (var intermediate in certificates.Skip(1))
        {
            chain.ChainPolicy.ExtraStore.Add(intermediate);
        }

        return chain.Build(leaf);
    }
}
