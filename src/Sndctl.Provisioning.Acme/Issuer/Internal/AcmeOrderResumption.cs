namespace Sndctl.Provisioning.Acme.Internal;

/// <summary>What to do with an order an unfinished issuance left, given what the CA says of it now.</summary>
internal enum AcmeOrderResumption
{
    /// <summary>Unusable (invalid, expired, or not for this name): order afresh.</summary>
    Restart,

    /// <summary>Valid: the certificate is issued already; download it, order nothing.</summary>
    Download,

    /// <summary>Ready (or processing): the name is proven; finalize with the same CSR.</summary>
    Finalize,

    /// <summary>Pending: carry on with the challenge.</summary>
    Continue,
}

internal static class AcmeOrderResumptionExtensions
{
    extension(AcmeOrderResumption)
    {
        /// <summary>The decision for <paramref name="order"/>, an order for <paramref name="hostname"/> read from the CA at <paramref name="now"/>.</summary>
        public static AcmeOrderResumption Decide(AcmeOrder order, string hostname, DateTimeOffset now)
        {
            ArgumentNullException.ThrowIfNull(order);
            if (order.Identifiers is not [{ } identifier] || !string.Equals(identifier.Value, hostname, StringComparison.OrdinalIgnoreCase))
            {
                return AcmeOrderResumption.Restart;
            }

            if (order.Status == AcmeStatus.Valid)
            {
                // A valid order's certificate stays downloadable after the order's own expiry.
                return order.Certificate is null ? AcmeOrderResumption.Restart : AcmeOrderResumption.Download;
            }

            if (order.Expires is { } expires && expires <= now)
            {
                return AcmeOrderResumption.Restart;
            }

            return order.Status switch
            {
                AcmeStatus.Ready or AcmeStatus.Processing => AcmeOrderResumption.Finalize,
                AcmeStatus.Pending => AcmeOrderResumption.Continue,
                _ => AcmeOrderResumption.Restart,
            };
        }
    }
}
