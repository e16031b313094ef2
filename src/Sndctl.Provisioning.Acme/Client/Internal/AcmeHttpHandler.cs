using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>The primary handler of the ACME HttpClient: pooled connections, and an optional extra trusted root.</summary>
internal static class AcmeHttpHandler
{
    public static SocketsHttpHandler Create(AcmeIssuerOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // One long-lived client: recycle connections so DNS changes at the CA are seen.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AutomaticDecompression = System.Net.DecompressionMethods.All,
        };

        if (options.TrustedRootFile is { Length: > 0 } file)
        {
            var extraRoots = new X509Certificate2Collection();
            extraRoots.ImportFromPemFile(file);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                    errors == SslPolicyErrors.None || (certificate is X509Certificate2 leaf && ChainsTo(leaf, chain, extraRoots, errors)),
            };
        }

        return handler;
    }

    private static bool ChainsTo(X509Certificate2 leaf, X509Chain? presented, X509Certificate2Collection roots, SslPolicyErrors errors)
    {
        if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false; // Name mismatch or no certificate: never excused.
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(leaf);
    }
}
