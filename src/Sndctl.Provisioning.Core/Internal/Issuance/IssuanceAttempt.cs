using Microsoft.Extensions.DependencyInjection;

namespace Sndctl.Provisioning.Core.Internal;

/// <summary>
/// Step 2 of the issuance pipeline: the issuer's turn, with the issuance's journal (what the issuer does at the CA
/// and in DNS is written down as it happens, so a crash can be resumed). A refusal by the CA counts against the
/// device and ends the issuance for good (the next attempt starts afresh); a transient failure keeps the
/// journal for the next attempt to resume.
/// </summary>
internal sealed class IssuanceAttempt(TimeProvider time, string holder)
{
    /// <summary>The certificate the issuer obtained, and whether the issuance was journalled (then the store ends the journal).</summary>
    public async Task<(IssuedCertificate Issued, bool Journalled)> RunAsync(IssuanceScope scope, IssuanceDecision.Issue issue)
    {
        var journalStore = scope.Services.GetRequiredService<IIssuanceJournalStore>();
        using var journal = new IssuanceJournal(journalStore, issue.Pending, persisted: issue.Resuming, holder, time);
        try
        {
            var request = new CertificateIssueRequest(scope.Hostname, issue.Pending.CertificateSigningRequest, issue.Current)
            {
                Journal = journal,
                ServerMadeKey = issue.Pending.ProtectedPrivateKey is not null,
            };
            var issued = await scope.Issuer.IssueAsync(request, scope.CancellationToken).ConfigureAwait(false);
            return (issued, journal.Persisted);
        }
        catch (CertificateIssuanceException)
        {
            await IssuanceFailures.CountRefusalAsync(scope.Services, scope.DeviceId, scope.Options, time).ConfigureAwait(false);
            if (journal.Persisted)
            {
                await journalStore.RemovePendingAsync(scope.DeviceId, CancellationToken.None).ConfigureAwait(false);
            }

            throw;
        }
    }
}
