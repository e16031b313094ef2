using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>
/// The CA's certificates and keys, loaded once per process: from PEM files when configured, else from
/// the issuer-state store, where the first instance to start stores a newly made hierarchy.
/// </summary>
internal sealed partial class CertificateAuthority(
    IServiceScopeFactory scopes,
    IDataProtectionProvider dataProtection,
    IOptions<PrivateCaOptions> options,
    TimeProvider time,
    ILogger<CertificateAuthority> logger) : IDisposable
{
    internal const string StateKey = "private-ca/v1";
    private const string ProtectionPurpose = "Sndctl.Provisioning.PrivateCa.Keys.v1";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IDataProtector _protector = dataProtection.CreateProtector(ProtectionPurpose);
    private LoadedCa? _loaded;

    public async ValueTask<LoadedCa> GetAsync(CancellationToken cancellationToken)
        => _loaded ?? await LoadAsync(cancellationToken);

    private async Task<LoadedCa> LoadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return _loaded ??= options.Value.RootCertificateFile is { Length: > 0 }
                ? LoadFromFiles(options.Value)
                : await LoadFromStoreAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static LoadedCa LoadFromFiles(PrivateCaOptions o)
    {
        X509Certificate2 root, issuer;
        AsymmetricAlgorithm key;
        try
        {
            root = X509Certificate2.CreateFromPem(File.ReadAllText(o.RootCertificateFile!));
            issuer = X509Certificate2.CreateFromPem(File.ReadAllText(o.IssuerCertificateFile!));
            key = CaCertificates.ImportPrivateKeyPem(File.ReadAllText(o.IssuerKeyFile!));
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"The private CA files cannot be read: RootCertificateFile '{o.RootCertificateFile}' and IssuerCertificateFile '{o.IssuerCertificateFile}' must hold a PEM certificate, IssuerKeyFile '{o.IssuerKeyFile}' an unencrypted PKCS#8 PEM key.", ex);
        }

        var loaded = new LoadedCa(root, issuer, key);
        loaded.EnsureConsistent();
        return loaded;
    }

    private async Task<LoadedCa> LoadFromStoreAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var state = scope.ServiceProvider.GetRequiredService<IIssuerStateStore>();
        var json = await state.GetAsync(StateKey, cancellationToken);
        if (json is null)
        {
            var o = options.Value;
            var (root, rootKey, issuer, issuerKey) = CaCertificates.CreateHierarchy(o.RootName, "Sndctl Provisioning Device Issuing CA", o.KeyAlgorithm, time.GetUtcNow());
            using (rootKey)
            using (issuerKey)
            {
                var candidate = new CaMaterial(
                    root.ExportCertificatePem(),
                    _protector.Protect(CaCertificates.ExportPrivateKeyPem(rootKey)),
                    issuer.ExportCertificatePem(),
                    _protector.Protect(CaCertificates.ExportPrivateKeyPem(issuerKey)));
                json = await state.GetOrAddAsync(StateKey, JsonSerializer.Serialize(candidate), cancellationToken);
                Log.Generated(logger, root.Subject, root.GetCertHashString(HashAlgorithmName.SHA256));
            }
        }

        var material = JsonSerializer.Deserialize<CaMaterial>(json) ?? throw new InvalidOperationException("The stored private CA is unreadable.");
        var loaded = new LoadedCa(
            X509Certificate2.CreateFromPem(material.RootCertificatePem),
            X509Certificate2.CreateFromPem(material.IssuerCertificatePem),
            CaCertificates.ImportPrivateKeyPem(_protector.Unprotect(material.ProtectedIssuerKey)));
        loaded.EnsureConsistent();
        return loaded;
    }

    public void Dispose()
    {
        _loaded?.Dispose();
        _gate.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Made a new private CA {Subject} (SHA-256 {Thumbprint}). Its keys are stored encrypted in the database; back up the Data Protection key ring with it.")]
        public static partial void Generated(ILogger logger, string subject, string thumbprint);
    }
}

/// <summary>The loaded CA: the root, and the issuing CA with its key.</summary>
internal sealed class LoadedCa(X509Certificate2 root, X509Certificate2 issuer, AsymmetricAlgorithm issuerKey) : IDisposable
{
    private readonly Lock _signing = new();

    public X509Certificate2 Root { get; } = root;

    public X509Certificate2 Issuer { get; } = issuer;

    public string RootPem { get; } = root.ExportCertificatePem() + "\n";

    public string IssuerPem { get; } = issuer.ExportCertificatePem() + "\n";

    /// <summary>Signs with the issuing key; key objects are not documented as thread-safe, so one at a time.</summary>
    public X509Certificate2 Sign(CertificateRequest request, DateTimeOffset notBefore, DateTimeOffset notAfter, byte[] serialNumber)
    {
        lock (_signing)
        {
            return request.Create(Issuer.SubjectName, CaCertificates.SignatureGenerator(issuerKey), notBefore, notAfter, serialNumber);
        }
    }

    public void EnsureConsistent()
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid;
        if (!chain.Build(Issuer))
        {
            throw new InvalidOperationException("The private CA's issuing certificate does not chain to its root.");
        }

        var publicKey = Issuer.PublicKey.ExportSubjectPublicKeyInfo();
        var keyPublic = issuerKey.ExportSubjectPublicKeyInfo();
        if (!publicKey.AsSpan().SequenceEqual(keyPublic))
        {
            throw new InvalidOperationException("The private CA's issuing key does not match its certificate.");
        }
    }

    public void Dispose()
    {
        Root.Dispose();
        Issuer.Dispose();
        issuerKey.Dispose();
    }
}
