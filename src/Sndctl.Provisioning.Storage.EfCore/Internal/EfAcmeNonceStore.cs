using Microsoft.EntityFrameworkCore;
using Sndctl.Provisioning.Core;

namespace Sndctl.Provisioning.Storage.EfCore.Internal;

/// <summary>A used ACME nonce, kept until it expires (then its age refuses it anyway).</summary>
internal sealed class AcmeNonceEntry
{
    public required string Value { get; init; }

    /// <summary>Unix seconds: compared as a number on both databases.</summary>
    public long ExpiresAt { get; init; }
}

/// <summary>Used nonces as rows: one insert that does nothing on a duplicate, so two instances cannot both accept a nonce.</summary>
internal sealed class EfAcmeNonceStore<TContext>(TContext context) : IAcmeNonceStore
    where TContext : DbContext
{
    public async Task<bool> TryUseAsync(string nonce, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        var (table, column) = SqlNames.Of<AcmeNonceEntry>(context);
        var (value, expires) = (column(nameof(AcmeNonceEntry.Value)), column(nameof(AcmeNonceEntry.ExpiresAt)));
        var sql = $"INSERT INTO {table} ({value}, {expires}) VALUES ({{0}}, {{1}}) ON CONFLICT ({value}) DO NOTHING";
        return await context.Database.ExecuteSqlRawAsync(sql, [nonce, expiresAt.ToUnixTimeSeconds()], cancellationToken).ConfigureAwait(false) == 1;
    }

    public Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cutoff = now.ToUnixTimeSeconds();
        return context.Set<AcmeNonceEntry>().Where(n => n.ExpiresAt < cutoff).ExecuteDeleteAsync(cancellationToken);
    }
}
