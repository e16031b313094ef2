using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sndctl.Provisioning.Acme.Internal;

namespace Sndctl.Provisioning.Acme;

/// <summary>
/// An RFC 8555 ACME client for one account key at one CA. Thread-safe: share one instance; requests
/// run concurrently, reuse the <see cref="HttpClient"/>'s connections and draw nonces from a pool
/// that every response refills.
/// </summary>
/// <remarks>
/// Every call takes a <see cref="CancellationToken"/>; each HTTP exchange is also bounded by
/// <see cref="AcmeClientOptions.RequestTimeout"/> (a <see cref="TimeoutException"/>). Problem
/// documents become <see cref="AcmeProblemException"/> subclasses.
/// </remarks>
public sealed partial class AcmeClient
{
    private readonly AcmeTransport _transport;
    private readonly AcmeClientOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private Task<AcmeDirectory>? _directory;
    private volatile AcmeAccountKey _accountKey;
    private volatile Uri? _accountUrl;
    private readonly AcmeMetrics _metrics;

    /// <summary>Creates a client. It does not own <paramref name="httpClient"/>.</summary>
    /// <param name="httpClient">Sends the requests; its handler decides TLS trust and connection reuse.</param>
    /// <param name="directoryUrl">The CA's directory, e.g. <c>https://acme-v02.api.letsencrypt.org/directory</c>.</param>
    /// <param name="accountKey">The account key every request is signed with.</param>
    /// <param name="options">Timing and retries; defaults when <see langword="null"/>.</param>
    /// <param name="logger">Logs each exchange at Debug (never keys or payloads).</param>
    /// <param name="timeProvider">The clock for polling waits.</param>
    /// <param name="meterFactory">Makes the <c>Sndctl.Provisioning.Acme</c> meter; without one, a meter of that name shared by standalone clients.</param>
    public AcmeClient(HttpClient httpClient, Uri directoryUrl, AcmeAccountKey accountKey, AcmeClientOptions? options = null, ILogger<AcmeClient>? logger = null, TimeProvider? timeProvider = null, IMeterFactory? meterFactory = null)
        : this(httpClient, directoryUrl, accountKey, options, logger, timeProvider, meterFactory is null ? AcmeMetrics.Standalone : new AcmeMetrics(meterFactory, timeProvider ?? TimeProvider.System))
    {
    }

    internal AcmeClient(HttpClient httpClient, Uri directoryUrl, AcmeAccountKey accountKey, AcmeClientOptions? options, ILogger<AcmeClient>? logger, TimeProvider? timeProvider, AcmeMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(directoryUrl);
        ArgumentNullException.ThrowIfNull(accountKey);
        DirectoryUrl = directoryUrl;
        _accountKey = accountKey;
        _options = options ?? new AcmeClientOptions();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _metrics = metrics;
        _transport = new AcmeTransport(httpClient, _options, _logger, _time, metrics, async ct => (await GetDirectoryAsync(ct).ConfigureAwait(false)).NewNonce);
    }

    /// <summary>The CA's directory URL.</summary>
    public Uri DirectoryUrl { get; }

    /// <summary>The key requests are signed with (changes after <see cref="ChangeAccountKeyAsync"/>).</summary>
    public AcmeAccountKey AccountKey => _accountKey;

    /// <summary>
    /// The account URL used as the JWS <c>kid</c>: set by <see cref="CreateAccountAsync"/> and
    /// <see cref="FindAccountAsync"/>, or at construction when the caller already knows it.
    /// </summary>
    public Uri? AccountUrl { get => _accountUrl; init => _accountUrl = value; }

    /// <summary>The directory, fetched once and kept (fetched again if the first fetch failed).</summary>
    public Task<AcmeDirectory> GetDirectoryAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _directory);
        if (current is { IsCompletedSuccessfully: true })
        {
            return current;
        }

        if (current is null || current.IsFaulted || current.IsCanceled)
        {
            // One fetch shared by every caller; it is bounded by the request timeout, not by one caller's token.
            var fetch = FetchDirectoryAsync();
            current = Interlocked.CompareExchange(ref _directory, fetch, current) == current ? fetch : Volatile.Read(ref _directory)!;
        }

        return current.WaitAsync(cancellationToken);
    }

    private async Task<AcmeDirectory> FetchDirectoryAsync()
    {
        await Task.Yield();
        using var response = await _transport.SendAsync(() => AcmeTransport.Get(DirectoryUrl, "application/json"), DirectoryUrl, CancellationToken.None).ConfigureAwait(false);
        await _transport.EnsureSuccessAsync(response, DirectoryUrl, CancellationToken.None).ConfigureAwait(false);
        return await AcmeTransport.ReadJsonAsync(response, AcmeJsonContext.Default.AcmeDirectory, DirectoryUrl, CancellationToken.None).ConfigureAwait(false);
    }

    private Uri RequireAccount() => AccountUrl
        ?? throw new InvalidOperationException("No account URL: call CreateAccountAsync or FindAccountAsync first, or pass AccountUrl when creating the client.");

    private async Task<TimeSpan> PollDelayAsync(TimeSpan? retryAfter, TimeSpan delay, CancellationToken cancellationToken)
    {
        var wait = retryAfter is { } asked ? TimeSpan.FromTicks(Math.Clamp(asked.Ticks, _options.PollInitialDelay.Ticks, _options.MaxRetryAfter.Ticks)) : delay;
        var started = _time.GetTimestamp();
        await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        _metrics.PollWait.Record(_time.GetElapsedTime(started).TotalSeconds);
        return TimeSpan.FromTicks(Math.Min((long)(delay.Ticks * 1.5), _options.PollMaxDelay.Ticks));
    }

    private static Uri Absolute(Uri baseUri, Uri location) => location.IsAbsoluteUri ? location : new Uri(baseUri, location);

    private static partial class Log
    {
        [LoggerMessage(3, LogLevel.Warning, "The CA offered no chain ending at '{PreferredChain}'; using its default chain.")]
        public static partial void PreferredChainNotOffered(ILogger logger, string preferredChain);
    }
}
