using Microsoft.Extensions.DependencyInjection;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.PrivateCa.Internal;

/// <summary>Every minute, on one instance, counts the CSR requests waiting for approval (<c>sndctl.privateca.csr.pending</c>).</summary>
internal sealed class CsrBacklogJob(CsrMetrics metrics) : IProvisioningJob
{
    public string Name => "csr-backlog";

    public TimeSpan Interval => TimeSpan.FromMinutes(1);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var pending = await services.GetRequiredService<ICsrRequestStore>().ListAsync(CsrRequestStatus.Pending, 1, 1, cancellationToken).ConfigureAwait(false);
        metrics.Backlog(pending.Total);
    }
}
