using Microsoft.Extensions.DependencyInjection;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>
/// The ACME issuer: which CA is asked. The primary first, then each fallback while the one before could not
/// issue (<see cref="IssueAsync"/>); revocation and renewal information at the CA that issued the certificate.
/// One certificate at one CA is <see cref="AcmeOrderFlow"/>'s.
/// </summary>
internal sealed partial class AcmeCertificateIssuer : ICertificateIssuer, IRenewalInfoSource
{
    public const string IssuerName = "Acme";

    private readonly AcmeAccountManager _accounts;
    private readonly AcmeBudget _budget;
    private readonly ILogger<AcmeCertificateIssuer> _logger;
    private readonly TimeProvider _time;
    private readonly AcmeOrderFlow _flow;

    public AcmeCertificateIssuer(
        AcmeAccountManager accounts,
        AcmeBudget budget,
        DnsPropagation propagation,
        IDnsProvider dns,
        IOptionsMonitor<AcmeIssuerOptions> options,
        [FromKeyedServices(RemoteTime.ServiceKey)] TimeProvider time,
        AcmeMetrics metrics,
        Random random,
        ILogger<AcmeCertificateIssuer> logger)
    {
        _time = time;
        _accounts = accounts;
        _budget = budget;
        _logger = logger;
        _flow = new AcmeOrderFlow(accounts, budget, propagation, dns, options, time, metrics, random, logger);
    }

    public string Name => IssuerName;

    /// <summary>
    /// Asks the primary CA, then each fallback in order while the one before could not issue (unreachable,
    /// failing, rate limited, out of budget); a failure on our side (the DNS provider, propagation) is not the
    /// CA's and ends the attempt. A device the primary's budget queued leaves the queue when a fallback issues.
    /// </summary>
    public async Task<IssuedCertificate> IssueAsync(CertificateIssueRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var authorities = InOrder(request);
        if (authorities.Count == 1)
        {
            return await _flow.IssueAtAsync(authorities[0], request, cancellationToken).ConfigureAwait(false);
        }

        var failures = new List<(AcmeCertificateAuthority Ca, Exception Failure)>(authorities.Count);
        foreach (var ca in authorities)
        {
            try
            {
                var issued = await _flow.IssueAtAsync(ca, request, cancellationToken).ConfigureAwait(false);
                if (failures.Count > 0)
                {
                    Log.IssuedByFallback(_logger, request.Hostname, ca.ToString(), failures[0].Ca.ToString());
                    if (failures.Exists(f => f.Failure is CertificateIssuanceQueuedException))
                    {
                        await _budget.LeaveQueueAsync(request.Hostname).ConfigureAwait(false);
                    }
                }

                return issued;
            }
            catch (CertificateAuthorityUnavailableException ex) when (ex is not DnsSideUnavailableException)
            {
                Log.CaCouldNotIssue(_logger, request.Hostname, ca.ToString(), ex.Message);
                failures.Add((ca, ex));
            }
            catch (CertificateIssuanceException ex) when (failures.Count > 0)
            {
                // A fallback refusing (its CAA check, its policy) leaves the answer the primary's: try again later.
                Log.CaCouldNotIssue(_logger, request.Hostname, ca.ToString(), ex.Message);
                failures.Add((ca, ex));
            }
        }

        // A device the primary's budget queued keeps its place and its ETA (202), and is asked back as soon as a
        // fallback expects to be able to issue, when that is sooner than its turn; otherwise try later (503).
        var retryAfter = failures.Where(f => f.Failure is not CertificateIssuanceQueuedException)
            .Select(f => (f.Failure as CertificateAuthorityUnavailableException)?.RetryAfter).Where(r => r is not null).Min();
        if (failures.Find(f => f.Failure is CertificateIssuanceQueuedException).Failure is CertificateIssuanceQueuedException queued)
        {
            if (retryAfter is { } sooner && sooner < queued.RetryAfter)
            {
                throw new CertificateIssuanceQueuedException(
                    $"{queued.Message} No fallback CA could issue now either; ask again in {Math.Ceiling(sooner.TotalSeconds):0} s, when one may.",
                    queued.Position,
                    queued.EstimatedAt,
                    sooner);
            }

            throw queued;
        }

        throw new CertificateAuthorityUnavailableException(
            $"No configured CA could issue the certificate for {request.Hostname}: " + string.Join("; ", failures.Select(f => $"{f.Ca}: {f.Failure.Message}")),
            retryAfter,
            failures[0].Failure);
    }

    /// <summary>The CAs to ask, in order: the primary first, except that an unfinished order at a fallback is resumed there first.</summary>
    private IReadOnlyList<AcmeCertificateAuthority> InOrder(CertificateIssueRequest request)
    {
        var all = _accounts.Authorities;
        if (all.Count == 1 || request.Journal?.ResumeFrom is not { } reference || !Uri.TryCreate(reference, UriKind.Absolute, out var order))
        {
            return all;
        }

        var resuming = all.FirstOrDefault(ca => !ca.IsPrimary && string.Equals(ca.DirectoryUrl.Authority, order.Authority, StringComparison.OrdinalIgnoreCase));
        return resuming is null ? all : [resuming, .. all.Where(ca => ca != resuming)];
    }

    public async Task RevokeAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var ca = _accounts.Find(certificate.CertificateAuthority) ?? throw new CertificateIssuanceException(
            $"Certificate {certificate.SerialNumber} was issued by {certificate.CertificateAuthority}, which is no longer configured: add it back as a fallback (Provisioning:Acme:Fallbacks) to revoke it with its account.");
        AcmeClient? client = null;
        try
        {
            client = await _accounts.GetClientAsync(ca, cancellationToken).ConfigureAwait(false);
            using var leaf = X509Certificate2.CreateFromPem(certificate.CertificatePem);
            try
            {
                // Reason 4 (superseded) would suit renewals; an admin revoking a device's certificate
                // is usually retiring or distrusting the device: unspecified (no reason) is the honest default.
                await client.RevokeCertificateAsync(leaf.RawDataMemory, reason: null, cancellationToken).ConfigureAwait(false);
            }
            catch (AcmeProblemException ex) when (ex.ProblemType == AcmeErrorTypes.AlreadyRevoked)
            {
                Log.AlreadyRevoked(_logger, certificate.SerialNumber);
            }
        }
        catch (Exception ex) when (_flow.Translate(ex, ca, client, certificate.SerialNumber) is { } translated)
        {
            throw translated;
        }
    }

    public async Task<DateTimeOffset?> GetRenewalTimeAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate.Issuer != IssuerName || _accounts.Find(certificate.CertificateAuthority) is not { } ca)
        {
            return null;
        }

        try
        {
            var client = await _accounts.GetClientAsync(ca, cancellationToken).ConfigureAwait(false);
            return await _flow.RenewalTimeAsync(client, certificate.CertificatePem, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or AcmeProblemException or AcmeProtocolException)
        {
            Log.RenewalInfoFailed(_logger, ex);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4, LogLevel.Warning, "Reading ACME renewal information failed; using the default renewal window.")]
        public static partial void RenewalInfoFailed(ILogger logger, Exception exception);

        [LoggerMessage(8, LogLevel.Warning, "The CA {Ca} could not issue the certificate for {Hostname}: {Reason}")]
        public static partial void CaCouldNotIssue(ILogger logger, string hostname, string ca, string reason);

        [LoggerMessage(9, LogLevel.Information, "The fallback CA {Ca} issued the certificate for {Hostname} ({Primary} could not).")]
        public static partial void IssuedByFallback(ILogger logger, string hostname, string ca, string primary);

        [LoggerMessage(5, LogLevel.Information, "Certificate {SerialNumber} was already revoked at the CA.")]
        public static partial void AlreadyRevoked(ILogger logger, string serialNumber);
    }
}

/// <summary>Try later, and the cause is on our DNS side (<see cref="AcmeFailure.OurDnsSide"/>): no other CA is asked, it would fail the same way.</summary>
internal sealed class DnsSideUnavailableException(string message, TimeSpan? retryAfter, Exception innerException)
    : CertificateAuthorityUnavailableException(message, retryAfter, innerException);
