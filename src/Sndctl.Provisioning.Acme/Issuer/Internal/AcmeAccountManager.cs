using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// Holds the CAs of this deployment (the primary, then <c>Fallbacks</c> in order) and the <see cref="AcmeClient"/>
/// of this deployment's account at each. An account key is made once per CA, kept encrypted in the
/// issuer-state store (the first instance to store it wins), and registered with the CA on first use in each
/// process (the CA returns the existing account for a known key, so restarts and other instances reuse it).
/// </summary>
internal sealed partial class AcmeAccountManager : IDisposable
{
    public const string HttpClientName = "Sndctl.Provisioning.Acme";
    private const string ProtectionPurpose = "Sndctl.Provisioning.Acme.AccountKey.v1";

    private readonly TimeProvider _remoteTime;
    private readonly AcmeMetrics _metrics;
    private readonly IServiceScopeFactory _scopes;
    private readonly IHttpClientFactory _httpClients;
    private readonly IOptionsMonitor<AcmeIssuerOptions> _options;
    private readonly IDataProtector _protector;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private static readonly TimeSpan DirectoryProbeValidity = TimeSpan.FromMinutes(1);
    private readonly TimeProvider _time;
    private readonly Lazy<IReadOnlyList<AcmeCertificateAuthority>> _authorities;

    public AcmeAccountManager(
        IServiceScopeFactory scopes,
        IHttpClientFactory httpClients,
        IOptionsMonitor<AcmeIssuerOptions> options,
        IDataProtectionProvider dataProtection,
        ILoggerFactory loggers,
        TimeProvider time,
        [FromKeyedServices(RemoteTime.ServiceKey)] TimeProvider remoteTime,
        AcmeMetrics metrics)
    {
        _time = time;
        _remoteTime = remoteTime;
        _metrics = metrics;
        _scopes = scopes;
        _httpClients = httpClients;
        _options = options;
        _protector = dataProtection.CreateProtector(ProtectionPurpose);
        _loggers = loggers;
        _logger = loggers.CreateLogger<AcmeAccountManager>();
        _authorities = new Lazy<IReadOnlyList<AcmeCertificateAuthority>>(() => Describe(options, time));
    }

    /// <summary>The primary CA, then the fallbacks in their configured order.</summary>
    public IReadOnlyList<AcmeCertificateAuthority> Authorities => _authorities.Value;

    public AcmeCertificateAuthority Primary => Authorities[0];

    /// <summary>The CA a certificate records as its issuer (none recorded: the primary); <see langword="null"/> when it is no longer configured.</summary>
    public AcmeCertificateAuthority? Find(string? certificateAuthority) => Authorities.FirstOrDefault(ca => ca.Issued(certificateAuthority));

    private static List<AcmeCertificateAuthority> Describe(IOptionsMonitor<AcmeIssuerOptions> monitor, TimeProvider time)
    {
        var options = monitor.CurrentValue;
        var authorities = new List<AcmeCertificateAuthority>(1 + options.Fallbacks.Count)
        {
            new(0, options.DirectoryUrl!, options.Email, options.ExternalAccountKeyId, options.ExternalAccountHmacKey, new AcmeRateLimitGate(time, monitor)),
        };
        foreach (var fallback in options.Fallbacks)
        {
            authorities.Add(new AcmeCertificateAuthority(
                authorities.Count,
                fallback.DirectoryUrl!,
                string.IsNullOrWhiteSpace(fallback.Email) ? options.Email : fallback.Email,
                fallback.ExternalAccountKeyId,
                fallback.ExternalAccountHmacKey,
                new AcmeRateLimitGate(time, monitor)));
        }

        return authorities;
    }

    /// <summary>The client of an account known to <paramref name="ca"/>; made (and the account registered) on first use.</summary>
    public async Task<AcmeClient> GetClientAsync(AcmeCertificateAuthority ca, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref ca.Client) is { } ready)
        {
            return ready;
        }

        await ca.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (ca.Client is { } raced)
            {
                return raced;
            }

            var client = await EstablishAsync(ca, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref ca.Client, client);
            return client;
        }
        finally
        {
            ca.Lock.Release();
        }
    }

    /// <summary>Whether the account at <paramref name="ca"/> is registered (or found) and its client ready.</summary>
    public static bool IsEstablished(AcmeCertificateAuthority ca) => Volatile.Read(ref ca.Client) is not null;

    /// <summary>
    /// Reads the CA's directory (an unauthenticated GET), to tell whether the CA answers without
    /// registering anything. A success is trusted for a minute, so probes polled every few seconds by an
    /// orchestrator on every instance do not become load on the CA.
    /// </summary>
    public async Task ProbeDirectoryAsync(AcmeCertificateAuthority ca, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (Interlocked.Read(ref ca.DirectoryAnsweredAt) is var answered and not 0 && _time.GetElapsedTime(answered, now) < DirectoryProbeValidity)
        {
            return;
        }

        var http = _httpClients.CreateClient(HttpClientName);
        using var response = await http.GetAsync(ca.DirectoryUrl, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        Interlocked.Exchange(ref ca.DirectoryAnsweredAt, now);
    }

    /// <summary>Forgets the client so the next issuance registers the account again (the CA lost it).</summary>
    public static void Invalidate(AcmeCertificateAuthority ca, AcmeClient client) => Interlocked.CompareExchange(ref ca.Client, null, client);

    /// <summary>The issuer-state key of the account at a directory.</summary>
    public static string StateKey(Uri directoryUrl)
        => "acme/account/" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(directoryUrl.AbsoluteUri)))[..32];

    private async Task<AcmeClient> EstablishAsync(AcmeCertificateAuthority ca, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        var directoryUrl = ca.DirectoryUrl;
        var scope = _scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        var state = scope.ServiceProvider.GetRequiredService<IIssuerStateStore>();
        var stateKey = StateKey(directoryUrl);

        var stored = await state.GetAsync(stateKey, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            using var fresh = AcmeAccountKey.Create(options.AccountKeyAlgorithm);
            var candidate = new AccountState(directoryUrl.AbsoluteUri, null, _protector.Protect(fresh.ExportPem()));
            stored = await state.GetOrAddAsync(stateKey, JsonSerializer.Serialize(candidate, AccountStateContext.Default.AccountState), cancellationToken).ConfigureAwait(false);
        }

        var account = JsonSerializer.Deserialize(stored, AccountStateContext.Default.AccountState)
            ?? throw new InvalidOperationException($"The ACME account state '{stateKey}' is empty.");
        AcmeAccountKey key;
        try
        {
            key = AcmeAccountKey.FromPem(_protector.Unprotect(account.ProtectedKey));
        }
        catch (CryptographicException ex)
        {
            throw new CertificateIssuanceException(
                "The ACME account key cannot be decrypted: this instance does not share the Data Protection key ring of the instance that made it.", ex);
        }

        var client = new AcmeClient(
            _httpClients.CreateClient(HttpClientName),
            directoryUrl,
            key,
            options.Client,
            _loggers.CreateLogger<AcmeClient>(),
            _remoteTime,
            _metrics);

        var directory = await client.GetDirectoryAsync(cancellationToken).ConfigureAwait(false);
        if (directory.Meta?.TermsOfService is { } terms && !options.AcceptTermsOfService)
        {
            throw new CertificateIssuanceException(
                $"The CA requires agreeing to its terms of service ({terms}): read them and set AcceptTermsOfService (Provisioning:Acme:AcceptTermsOfService=true).");
        }

        AcmeExternalAccountBinding? binding = null;
        if (!string.IsNullOrEmpty(ca.ExternalAccountKeyId))
        {
            binding = AcmeExternalAccountBinding.FromBase64Url(ca.ExternalAccountKeyId, ca.ExternalAccountHmacKey!);
        }
        else if (directory.Meta?.ExternalAccountRequired == true)
        {
            var keys = ca.IsPrimary ? "Provisioning:Acme:ExternalAccountKeyId and :ExternalAccountHmacKey" : $"Provisioning:Acme:Fallbacks:{ca.Index - 1}:ExternalAccountKeyId and :ExternalAccountHmacKey";
            throw new CertificateIssuanceException(
                $"The CA {ca.DirectoryUrl} requires External Account Binding: set {keys} from your account at that CA.");
        }

        var created = await client.CreateAccountAsync(
            new AcmeNewAccountRequest
            {
                Contact = string.IsNullOrWhiteSpace(ca.Email) ? null : ["mailto:" + ca.Email.Trim()],
                TermsOfServiceAgreed = options.AcceptTermsOfService,
                ExternalAccountBinding = binding,
            },
            cancellationToken).ConfigureAwait(false);

        if (account.AccountUrl != created.Location.AbsoluteUri)
        {
            await state.SetAsync(stateKey, JsonSerializer.Serialize(account with { AccountUrl = created.Location.AbsoluteUri }, AccountStateContext.Default.AccountState), cancellationToken).ConfigureAwait(false);
        }

        if (created.Created)
        {
            Log.AccountCreated(_logger, created.Location, directoryUrl);
        }
        else
        {
            Log.AccountReused(_logger, created.Location, directoryUrl);
        }

        return client;
    }

    public void Dispose()
    {
        if (_authorities.IsValueCreated)
        {
            foreach (var ca in _authorities.Value)
            {
                ca.Dispose();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Created ACME account {AccountUrl} at {DirectoryUrl}.")]
        public static partial void AccountCreated(ILogger logger, Uri accountUrl, Uri directoryUrl);

        [LoggerMessage(2, LogLevel.Information, "Using ACME account {AccountUrl} at {DirectoryUrl}.")]
        public static partial void AccountReused(ILogger logger, Uri accountUrl, Uri directoryUrl);
    }
}

/// <summary>What the issuer-state store keeps for an account: the key is Data Protection ciphertext.</summary>
internal sealed record AccountState(
    [property: JsonPropertyName("directoryUrl")] string DirectoryUrl,
    [property: JsonPropertyName("accountUrl")] string? AccountUrl,
    [property: JsonPropertyName("protectedKey")] string ProtectedKey);

[JsonSerializable(typeof(AccountState))]
internal sealed partial class AccountStateContext : JsonSerializerContext;
