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
/// Holds the one <see cref="AcmeClient"/> of this deployment's account at the configured CA. The
/// account key is made once, kept encrypted in the issuer-state store (the first instance to store
/// it wins), and registered with the CA on first use in each process (the CA returns the existing
/// account for a known key, so restarts and other instances reuse it).
/// </summary>
internal sealed partial class AcmeAccountManager : IDisposable
{
    public const string HttpClientName = "Sndctl.Provisioning.Acme";
    private const string ProtectionPurpose = "Sndctl.Provisioning.Acme.AccountKey.v1";

    private readonly TimeProvider _remoteTime;
    private readonly AcmeMetrics _metrics;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly IServiceScopeFactory _scopes;
    private readonly IHttpClientFactory _httpClients;
    private readonly IOptionsMonitor<AcmeIssuerOptions> _options;
    private readonly IDataProtector _protector;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private static readonly TimeSpan DirectoryProbeValidity = TimeSpan.FromMinutes(1);
    private readonly TimeProvider _time;
    private AcmeClient? _client;
    private long _directoryAnsweredAt;

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
    }

    /// <summary>The client of an account known to the CA; made (and the account registered) on first use.</summary>
    public async Task<AcmeClient> GetClientAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _client) is { } ready)
        {
            return ready;
        }

        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client is { } raced)
            {
                return raced;
            }

            var client = await EstablishAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _client, client);
            return client;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Whether the account is registered (or found) and its client ready.</summary>
    public bool IsEstablished => Volatile.Read(ref _client) is not null;

    /// <summary>
    /// Reads the CA's directory (an unauthenticated GET), to tell whether the CA answers without
    /// registering anything. A success is trusted for a minute, so probes polled every few seconds by an
    /// orchestrator on every instance do not become load on the CA.
    /// </summary>
    public async Task ProbeDirectoryAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (Interlocked.Read(ref _directoryAnsweredAt) is var answered and not 0 && _time.GetElapsedTime(answered, now) < DirectoryProbeValidity)
        {
            return;
        }

        var http = _httpClients.CreateClient(HttpClientName);
        using var response = await http.GetAsync(_options.CurrentValue.DirectoryUrl, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        Interlocked.Exchange(ref _directoryAnsweredAt, now);
    }

    /// <summary>Forgets the client so the next issuance registers the account again (the CA lost it).</summary>
    public void Invalidate(AcmeClient client) => Interlocked.CompareExchange(ref _client, null, client);

    /// <summary>The issuer-state key of the account at a directory.</summary>
    public static string StateKey(Uri directoryUrl)
        => "acme/account/" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(directoryUrl.AbsoluteUri)))[..32];

    private async Task<AcmeClient> EstablishAsync(CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        var directoryUrl = options.DirectoryUrl!;
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
        if (!string.IsNullOrEmpty(options.ExternalAccountKeyId))
        {
            binding = AcmeExternalAccountBinding.FromBase64Url(options.ExternalAccountKeyId, options.ExternalAccountHmacKey!);
        }
        else if (directory.Meta?.ExternalAccountRequired == true)
        {
            throw new CertificateIssuanceException(
                "The CA requires External Account Binding: set ExternalAccountKeyId and ExternalAccountHmacKey from your CA account.");
        }

        var created = await client.CreateAccountAsync(
            new AcmeNewAccountRequest
            {
                Contact = string.IsNullOrWhiteSpace(options.Email) ? null : ["mailto:" + options.Email.Trim()],
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

    public void Dispose() => _lock.Dispose();

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
