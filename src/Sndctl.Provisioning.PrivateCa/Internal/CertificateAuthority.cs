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
    IOptions<DeviceProvisioningOptions> provisioning,
    TimeProvider time,
    ILogger<CertificateAuthority> logger) : IDisposable
{
    internal const string StateKey = "private-ca/v1";
    private const string ProtectionPurpose = "Sndctl.Provisioning.PrivateCa.Keys.v1";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IDataProtector _protector = dataProtection.CreateProtector(ProtectionPurpose);
    private LoadedCa? _loaded;
    private readonly LoadedCa?[] _csrIssuers = new LoadedCa?[2];

    public async ValueTask<LoadedCa> GetAsync(CancellationToken cancellationToken)
        => _loaded ?? await LoadAsync(cancellationToken).ConfigureAwait(false);

    private async Task<LoadedCa> LoadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _loaded ??= options.Value.RootCertificateFile is { Length: > 0 }
                ? LoadFromFiles(options.Value)
                : await LoadFromStoreAsync(cancellationToken).ConfigureAwait(false);
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
        var scope = scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        var state = scope.ServiceProvider.GetRequiredService<IIssuerStateStore>();
        var json = await state.GetAsync(StateKey, cancellationToken).ConfigureAwait(false);
        if (json is null)
        {
            var o = options.Value;
            var (root, rootKey, issuer, issuerKey) = CaCertificates.CreateHierarchy(o.RootName, "Sndctl Provisioning Device Issuing CA", o.KeyAlgorithm, time.GetUtcNow(), provisioning.Value.BaseDomain);
            using (rootKey)
            using (issuerKey)
            {
                var candidate = new CaMaterial(
                    root.ExportCertificatePem(),
                    _protector.Protect(CaCertificates.ExportPrivateKeyPem(rootKey)),
                    issuer.ExportCertificatePem(),
                    _protector.Protect(CaCertificates.ExportPrivateKeyPem(issuerKey)));
                json = await state.GetOrAddAsync(StateKey, JsonSerializer.Serialize(candidate), cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// The intermediate that signs private-IP CSRs of <paramref name="type"/>: name-constrained to the
    /// private ranges, made once under the root (the first instance stores it, every instance uses it).
    /// </summary>
    /// <exception cref="CertificateAuthorityUnavailableException">The root key is not available to make it.</exception>
    public async ValueTask<LoadedCa> GetCsrIssuerAsync(CsrCertificateType type, CancellationToken cancellationToken)
        => _csrIssuers[(int)type] ?? await LoadCsrIssuerAsync(type, cancellationToken).ConfigureAwait(false);

    private async Task<LoadedCa> LoadCsrIssuerAsync(CsrCertificateType type, CancellationToken cancellationToken)
    {
        var ca = await GetAsync(cancellationToken).ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_csrIssuers[(int)type] is { } loaded)
            {
                return loaded;
            }

            var scope = scopes.CreateAsyncScope();

            await using var scopeDisposal = scope.ConfigureAwait(false);
            var state = scope.ServiceProvider.GetRequiredService<IIssuerStateStore>();
            var key = $"{StateKey}/csr/{CsrTypes.Name(type)}";
            var json = await state.GetAsync(key, cancellationToken).ConfigureAwait(false);
            if (json is null)
            {
                using var rootKey = await RootKeyAsync(state, cancellationToken).ConfigureAwait(false);
                var name = type == CsrCertificateType.Webhook ? "Sndctl Provisioning Webhook CA" : "Sndctl Provisioning Private Server CA";
                var (certificate, issuerKey) = CaCertificates.CreateIntermediate(ca.Root, rootKey, name, options.Value.KeyAlgorithm, time.GetUtcNow(), [CaCertificates.PrivateIpNameConstraints()]);
                using (certificate)
                using (issuerKey)
                {
                    var candidate = new CsrIssuerMaterial(certificate.ExportCertificatePem(), _protector.Protect(CaCertificates.ExportPrivateKeyPem(issuerKey)));
                    json = await state.GetOrAddAsync(key, JsonSerializer.Serialize(candidate), cancellationToken).ConfigureAwait(false);
                    Log.GeneratedCsrIssuer(logger, certificate.Subject);
                }
            }

            var material = JsonSerializer.Deserialize<CsrIssuerMaterial>(json) ?? throw new InvalidOperationException($"The stored {CsrTypes.Name(type)} CA is unreadable.");
            var issuer = new LoadedCa(
                X509CertificateLoader.LoadCertificate(ca.Root.RawData),
                X509Certificate2.CreateFromPem(material.CertificatePem),
                CaCertificates.ImportPrivateKeyPem(_protector.Unprotect(material.ProtectedKey)));
            issuer.EnsureConsistent();
            return _csrIssuers[(int)type] = issuer;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<AsymmetricAlgorithm> RootKeyAsync(IIssuerStateStore state, CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.RootCertificateFile is { Length: > 0 })
        {
            return o.RootKeyFile is { Length: > 0 } file
                ? CaCertificates.ImportPrivateKeyPem(
                    await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false),
                    o.RootKeyPassphraseFile is { Length: > 0 } passphraseFile ? (await File.ReadAllLinesAsync(passphraseFile, cancellationToken).ConfigureAwait(false)).FirstOrDefault() : null)
                : throw new CertificateAuthorityUnavailableException("The private CA was loaded from files without Provisioning:PrivateCa:RootKeyFile, so the CSR intermediates cannot be made: set RootKeyFile once (they are then kept in the database).");
        }

        var material = await StoredMaterialAsync(state, cancellationToken).ConfigureAwait(false);
        return material.ProtectedRootKey is { } protectedKey
            ? CaCertificates.ImportPrivateKeyPem(_protector.Unprotect(protectedKey))
            : throw new CertificateAuthorityUnavailableException("The private CA's root key is kept offline (exported and removed from the database), so a missing CSR intermediate cannot be made: set Provisioning:PrivateCa:RootKeyFile to the exported key once.");
    }

    /// <summary>
    /// Hands the root key out for offline keeping (PKCS#8 PEM), after making sure every intermediate that
    /// needs it exists. The database keeps it until <see cref="RemoveRootKeyAsync"/>.
    /// </summary>
    public async Task<string> ExportRootKeyAsync(CancellationToken cancellationToken)
    {
        if (options.Value.RootCertificateFile is { Length: > 0 })
        {
            throw new CertificateAuthorityUnavailableException("This private CA is loaded from files: its root key is wherever RootKeyFile points, not in the database.");
        }

        await GetAsync(cancellationToken).ConfigureAwait(false);
        await GetCsrIssuerAsync(CsrCertificateType.Webhook, cancellationToken).ConfigureAwait(false);
        await GetCsrIssuerAsync(CsrCertificateType.PrivateServer, cancellationToken).ConfigureAwait(false);
        var scope = scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        var material = await StoredMaterialAsync(scope.ServiceProvider.GetRequiredService<IIssuerStateStore>(), cancellationToken).ConfigureAwait(false);
        return _protector.Unprotect(RootKeyOf(material));
    }

    /// <summary>
    /// Removes the root key from the database, once <paramref name="exportedPem"/> (what
    /// <see cref="ExportRootKeyAsync"/> returned, and the caller has kept) is proven to be that key.
    /// </summary>
    public async Task RemoveRootKeyAsync(string exportedPem, CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        var state = scope.ServiceProvider.GetRequiredService<IIssuerStateStore>();
        var material = await StoredMaterialAsync(state, cancellationToken).ConfigureAwait(false);
        using var exported = CaCertificates.ImportPrivateKeyPem(exportedPem);
        using var stored = CaCertificates.ImportPrivateKeyPem(_protector.Unprotect(RootKeyOf(material)));
        if (!exported.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(stored.ExportSubjectPublicKeyInfo()))
        {
            throw new CertificateAuthorityUnavailableException("The key given is not the stored root key; nothing was removed.");
        }

        await state.SetAsync(StateKey, JsonSerializer.Serialize(material with { ProtectedRootKey = null }), cancellationToken).ConfigureAwait(false);
        Log.RootKeyRemoved(logger);
    }

    /// <summary>
    /// Replaces the device issuing CA with a new one under the same root (a new key, the same name constraints), the
    /// old certificate kept in the history. Certificates issued before still chain to the root; new ones come from the
    /// new CA once each instance loads it (at its next start). The root key is the stored one, or
    /// <paramref name="rootKeyPem"/> when it was taken offline.
    /// </summary>
    /// <returns>The new issuing CA's subject and SHA-256 fingerprint.</returns>
    public async Task<(string Subject, string Thumbprint)> RollOverIssuerAsync(string? rootKeyPem, string? passphrase, CancellationToken cancellationToken)
    {
        if (options.Value.RootCertificateFile is { Length: > 0 })
        {
            throw new CertificateAuthorityUnavailableException("This private CA is loaded from files: make the new intermediate with the root key and point IssuerCertificateFile and IssuerKeyFile at it.");
        }

        await GetAsync(cancellationToken).ConfigureAwait(false);
        var scope = scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        var state = scope.ServiceProvider.GetRequiredService<IIssuerStateStore>();
        var material = await StoredMaterialAsync(state, cancellationToken).ConfigureAwait(false);
        using var root = X509Certificate2.CreateFromPem(material.RootCertificatePem);
        AsymmetricAlgorithm rootKey;
        try
        {
            rootKey = rootKeyPem is not null ? CaCertificates.ImportPrivateKeyPem(rootKeyPem, passphrase)
                : material.ProtectedRootKey is { } stored ? CaCertificates.ImportPrivateKeyPem(_protector.Unprotect(stored))
                : throw new CertificateAuthorityUnavailableException("The root key was taken offline: give the exported key (and its passphrase) to make the new intermediate.");
        }
        catch (CryptographicException ex)
        {
            throw new CertificateAuthorityUnavailableException($"The root key cannot be read ({ex.Message}); nothing was changed.");
        }

        using (rootKey)
        {
            if (!root.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(rootKey.ExportSubjectPublicKeyInfo()))
            {
                throw new CertificateAuthorityUnavailableException("The key given is not this CA's root key; nothing was changed.");
            }

            var history = material.PreviousIssuerCertificatePems ?? [];
            var name = $"Sndctl Provisioning Device Issuing CA G{history.Count + 2}";
            var (certificate, issuerKey) = CaCertificates.CreateIntermediate(root, rootKey, name, options.Value.KeyAlgorithm, time.GetUtcNow(), [CaCertificates.DeviceNameConstraints(provisioning.Value.BaseDomain)]);
            using (certificate)
            using (issuerKey)
            {
                var next = material with
                {
                    IssuerCertificatePem = certificate.ExportCertificatePem(),
                    ProtectedIssuerKey = _protector.Protect(CaCertificates.ExportPrivateKeyPem(issuerKey)),
                    PreviousIssuerCertificatePems = [.. history, material.IssuerCertificatePem],
                };
                await state.SetAsync(StateKey, JsonSerializer.Serialize(next), cancellationToken).ConfigureAwait(false);
                var thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
                Log.RolledOver(logger, certificate.Subject, thumbprint);
                return (certificate.Subject, thumbprint);
            }
        }
    }

    /// <summary>
    /// The whole CA as passphrase-encrypted PKCS#12 (<see cref="CaPkcs12"/>): root (with its key unless it was taken
    /// offline), device issuing CA, and the CSR CAs (made first when the root key allows).
    /// </summary>
    public async Task<byte[]> ExportPkcs12Async(string passphrase, CancellationToken cancellationToken)
    {
        if (options.Value.RootCertificateFile is { Length: > 0 })
        {
            throw new CertificateAuthorityUnavailableException("This private CA is loaded from files: they are its custody, not the database.");
        }

        await GetAsync(cancellationToken).ConfigureAwait(false);
        foreach (var type in (CsrCertificateType[])[CsrCertificateType.Webhook, CsrCertificateType.PrivateServer])
        {
            try
            {
                await GetCsrIssuerAsync(type, cancellationToken).ConfigureAwait(false);
            }
            catch (CertificateAuthorityUnavailableException)
            {
                // The root key is offline and this CSR CA was never made: the export goes without it.
            }
        }

        var scope = scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        var state = scope.ServiceProvider.GetRequiredService<IIssuerStateStore>();
        var material = await StoredMaterialAsync(state, cancellationToken).ConfigureAwait(false);
        var entries = new List<CaPkcs12.Entry>
        {
            new(CaPkcs12.Root, X509Certificate2.CreateFromPem(material.RootCertificatePem), material.ProtectedRootKey is { } rootKey ? CaCertificates.ImportPrivateKeyPem(_protector.Unprotect(rootKey)) : null),
            new(CaPkcs12.Issuer, X509Certificate2.CreateFromPem(material.IssuerCertificatePem), CaCertificates.ImportPrivateKeyPem(_protector.Unprotect(material.ProtectedIssuerKey))),
        };
        foreach (var type in (CsrCertificateType[])[CsrCertificateType.Webhook, CsrCertificateType.PrivateServer])
        {
            if (await state.GetAsync($"{StateKey}/csr/{CsrTypes.Name(type)}", cancellationToken).ConfigureAwait(false) is { } json
                && JsonSerializer.Deserialize<CsrIssuerMaterial>(json) is { } csr)
            {
                entries.Add(new(CsrTypes.Name(type), X509Certificate2.CreateFromPem(csr.CertificatePem), CaCertificates.ImportPrivateKeyPem(_protector.Unprotect(csr.ProtectedKey))));
            }
        }

        try
        {
            return CaPkcs12.Export(entries, passphrase);
        }
        finally
        {
            foreach (var entry in entries)
            {
                entry.Certificate.Dispose();
                entry.Key?.Dispose();
            }
        }
    }

    /// <summary>
    /// Stores a CA from PKCS#12 into a deployment that has none yet: a root certificate (its key optional: offline),
    /// an issuing CA with its key signed by that root, optionally the CSR CAs. Everything is checked before anything is written.
    /// </summary>
    /// <returns>The root's SHA-256 fingerprint.</returns>
    public async Task<string> ImportPkcs12Async(byte[] pkcs12, string passphrase, CancellationToken cancellationToken)
    {
        if (options.Value.RootCertificateFile is { Length: > 0 })
        {
            throw new CertificateAuthorityUnavailableException("This private CA is configured from files (Provisioning:PrivateCa:RootCertificateFile); remove those settings to keep the CA in the database.");
        }

        Dictionary<string, CaPkcs12.Entry> entries;
        try
        {
            entries = CaPkcs12.Import(pkcs12, passphrase);
        }
        catch (Exception ex) when (ex is CryptographicException or System.Formats.Asn1.AsnContentException)
        {
            throw new CertificateAuthorityUnavailableException($"The file cannot be opened with that passphrase, or is not PKCS#12 ({ex.Message}); nothing was imported.");
        }

        try
        {
            if (!entries.TryGetValue(CaPkcs12.Root, out var root) || !entries.TryGetValue(CaPkcs12.Issuer, out var issuer) || issuer.Key is null)
            {
                throw new CertificateAuthorityUnavailableException("The file must hold the root certificate and the issuing CA's certificate with its key; nothing was imported.");
            }

            foreach (var entry in entries.Values.Where(e => e.Name != CaPkcs12.Root))
            {
                if (entry.Key is null || !IssuedBy(entry.Certificate, root.Certificate))
                {
                    throw new CertificateAuthorityUnavailableException($"The '{entry.Name}' CA in the file is not issued by its root, or comes without its key; nothing was imported.");
                }
            }

            var scope = scopes.CreateAsyncScope();
            await using var scopeDisposal = scope.ConfigureAwait(false);
            var state = scope.ServiceProvider.GetRequiredService<IIssuerStateStore>();
            if (await state.GetAsync(StateKey, cancellationToken).ConfigureAwait(false) is not null)
            {
                throw new CertificateAuthorityUnavailableException("This deployment has a private CA already; import only into one that has none (nothing was imported).");
            }

            foreach (var type in (CsrCertificateType[])[CsrCertificateType.Webhook, CsrCertificateType.PrivateServer])
            {
                if (entries.TryGetValue(CsrTypes.Name(type), out var csr))
                {
                    await state.SetAsync($"{StateKey}/csr/{CsrTypes.Name(type)}", JsonSerializer.Serialize(new CsrIssuerMaterial(csr.Certificate.ExportCertificatePem(), _protector.Protect(CaCertificates.ExportPrivateKeyPem(csr.Key!)))), cancellationToken).ConfigureAwait(false);
                }
            }

            var material = JsonSerializer.Serialize(new CaMaterial(
                root.Certificate.ExportCertificatePem(),
                root.Key is { } rootKey ? _protector.Protect(CaCertificates.ExportPrivateKeyPem(rootKey)) : null,
                issuer.Certificate.ExportCertificatePem(),
                _protector.Protect(CaCertificates.ExportPrivateKeyPem(issuer.Key))));
            if (await state.GetOrAddAsync(StateKey, material, cancellationToken).ConfigureAwait(false) != material)
            {
                throw new CertificateAuthorityUnavailableException("Another instance made a private CA meanwhile; nothing of the file's root was stored.");
            }

            Log.Imported(logger, root.Certificate.Subject, root.Certificate.GetCertHashString(HashAlgorithmName.SHA256));
            return root.Certificate.GetCertHashString(HashAlgorithmName.SHA256);
        }
        finally
        {
            foreach (var entry in entries.Values)
            {
                entry.Certificate.Dispose();
                entry.Key?.Dispose();
            }
        }
    }

    private static bool IssuedBy(X509Certificate2 certificate, X509Certificate2 root)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate) && chain.ChainElements.Count == 2;
    }

    private static async Task<CaMaterial> StoredMaterialAsync(IIssuerStateStore state, CancellationToken cancellationToken)
    {
        var json = await state.GetAsync(StateKey, cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("The private CA is not stored.");
        return JsonSerializer.Deserialize<CaMaterial>(json) ?? throw new InvalidOperationException("The stored private CA is unreadable.");
    }

    private static string RootKeyOf(CaMaterial material)
        => material.ProtectedRootKey ?? throw new CertificateAuthorityUnavailableException("The root key was removed from the database already; it is wherever it was exported to.");

    public void Dispose()
    {
        _loaded?.Dispose();
        foreach (var issuer in _csrIssuers)
        {
            issuer?.Dispose();
        }

        _gate.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Made a new private CA {Subject} (SHA-256 {Thumbprint}). Its keys are stored encrypted in the database; back up the Data Protection key ring with it.")]
        public static partial void Generated(ILogger logger, string subject, string thumbprint);

        [LoggerMessage(3, LogLevel.Warning, "The private CA's root key was exported and removed from the database; keep it offline. The intermediates go on issuing.")]
        public static partial void RootKeyRemoved(ILogger logger);

        [LoggerMessage(4, LogLevel.Warning, "Imported the private CA with root {Subject} (SHA-256 {Thumbprint}) from PKCS#12.")]
        public static partial void Imported(ILogger logger, string subject, string thumbprint);

        [LoggerMessage(5, LogLevel.Warning, "Rolled the device issuing CA over to {Subject} (SHA-256 {Thumbprint}); each instance issues under it from its next start.")]
        public static partial void RolledOver(ILogger logger, string subject, string thumbprint);

        [LoggerMessage(2, LogLevel.Information, "Made the private-IP CSR intermediate {Subject} (name-constrained to 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16).")]
        public static partial void GeneratedCsrIssuer(ILogger logger, string subject);
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

    /// <summary>The DNS names the issuing certificate is constrained to, or null when it is not constrained.</summary>
    public IReadOnlyList<string>? PermittedDnsNames { get; } = CaCertificates.PermittedDnsNames(issuer);

    /// <summary>Signs with the issuing key; key objects are not documented as thread-safe, so one at a time.</summary>
    public X509Certificate2 Sign(CertificateRequest request, DateTimeOffset notBefore, DateTimeOffset notAfter, byte[] serialNumber)
        => X509CertificateLoader.LoadCertificate(SignToDer(request, notBefore, notAfter, serialNumber));

    /// <summary>The DER of <see cref="Sign"/>'s certificate, not loaded (see <see cref="CaCertificates.CreateCertificateDer"/>).</summary>
    public byte[] SignToDer(CertificateRequest request, DateTimeOffset notBefore, DateTimeOffset notAfter, byte[] serialNumber)
    {
        lock (_signing)
        {
            return CaCertificates.CreateCertificateDer(request, Issuer.SubjectName, CaCertificates.SignatureGenerator(issuerKey), notBefore, notAfter, serialNumber);
        }
    }

    /// <summary>Signs a CRL with the issuing key.</summary>
    public byte[] SignCrl(CertificateRevocationListBuilder builder, System.Numerics.BigInteger number, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate)
    {
        lock (_signing)
        {
            return builder.Build(
                Issuer.SubjectName,
                CaCertificates.SignatureGenerator(issuerKey),
                number,
                nextUpdate,
                HashAlgorithmName.SHA256,
                X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Issuer, true, false),
                thisUpdate);
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
