using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Sndctl.Provisioning.Core;
using Sndctl.Provisioning.Storage.EfCore.Internal;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Adds the provisioning tables to a host's own model.</summary>
public static class ProvisioningModelBuilderExtensions
{
    /// <summary>The partial indexes' condition for devices that are not active (the store's queries name it word for word).</summary>
    internal const string NotActive = "\"Status\" <> 'Active'";

    /// <summary>The partial indexes' condition for devices whose secret is no longer the factory's.</summary>
    internal const string ReplacedSecret = "\"SecretOrigin\" <> 'Factory'";

    /// <summary>The partial indexes' condition for devices that reported a name resolution.</summary>
    internal const string Resolved = "\"NameResolution\" <> 'Unknown'";

    /// <summary>
    /// Marks a table whose rows the database derives from other tables (the device counts, kept by triggers): a tool that
    /// copies a database table by table leaves such a table out, and the target derives it again.
    /// </summary>
    public const string DerivedTableAnnotation = "Sndctl:DerivedTable";

    /// <summary>
    /// Maps devices, certificates, audit events, issuer state, issuance leases, the issuance journal, rate-limit counters and private-CA CSR requests. Call it from your
    /// DbContext's <c>OnModelCreating</c>, then add a migration.
    /// </summary>
    /// <param name="modelBuilder">The model builder.</param>
    /// <param name="tablePrefix">Prefix of every table name.</param>
    public static ModelBuilder UseDeviceProvisioning(this ModelBuilder modelBuilder, string tablePrefix = "Provisioning")
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);

        modelBuilder.Entity<Device>(device =>
        {
            device.ToTable(tablePrefix + "Devices");
            device.HasKey(d => d.DeviceId);
            device.Property(d => d.DeviceId).HasMaxLength(DeviceNames.MaxDeviceIdLength);
            device.Property(d => d.Hostname).HasMaxLength(253).IsRequired();
            device.HasIndex(d => d.Hostname).IsUnique();
            device.Property(d => d.SecretHash).HasMaxLength(64).IsRequired();
            device.Property(d => d.ProtectedSecret).HasMaxLength(1024);
            device.Property(d => d.PendingSecretHash).HasMaxLength(64);
            device.Property(d => d.PendingProtectedSecret).HasMaxLength(1024);
            device.Property(d => d.SecretOrigin).HasConversion<string>().HasMaxLength(16);
            device.Property(d => d.NameResolution).HasConversion<string>().HasMaxLength(16);
            device.Property(d => d.Status).HasConversion<string>().HasMaxLength(16);
            // The admin list's filters (status, factory secret, name resolution) with its default order (newest first),
            // and their counts (benchmarks/scale.sh: every sort and filter at a million devices).
            device.HasIndex(d => new { d.Status, d.CreatedAt });
            device.HasIndex(d => new { d.SecretOrigin, d.CreatedAt });
            device.HasIndex(d => new { d.NameResolution, d.CreatedAt });
            device.HasIndex(d => d.CreatedAt);
            // Sorted by status (ties by device ID, in the sort's direction), and by one status in device-ID order.
            device.HasIndex(d => new { d.Status, d.DeviceId });
            // "Most recently seen first" pages through this index (a million devices: the admin list, benchmarks/scale.sh).
            device.HasIndex(d => new { d.LastSeenAt, d.DeviceId }).IsDescending(true, false);
            // Sorting and counting the fleet by certificate expiry (the admin list, the statistics) reads this index.
            device.HasIndex(d => new { d.CurrentCertificateNotAfter, d.DeviceId });
            // Pending or disabled devices by last seen or expiry: few of them have either, so reading the two indexes above
            // for them read all the others (1.3 s at a million devices). Partial indexes of the devices that are not
            // active and have a value: a device's first issuance (pending without either, then active) and an active
            // device's calls and renewals write neither (the store's queries name the same conditions, as SQLite needs).
            device.HasIndex(d => new { d.Status, d.LastSeenAt, d.DeviceId }, "IX_" + tablePrefix + "Devices_NotActive_LastSeen")
                .IsDescending(false, true, false).HasFilter("\"LastSeenAt\" IS NOT NULL AND " + NotActive);
            device.HasIndex(d => new { d.Status, d.CurrentCertificateNotAfter, d.DeviceId }, "IX_" + tablePrefix + "Devices_NotActive_Expiry")
                .HasFilter("\"CurrentCertificateNotAfter\" IS NOT NULL AND " + NotActive);
            // The factory-secret and name-resolution filters in every other order the list offers (device ID, status, last
            // seen, expiry), for the devices outside a new device's cell only (a replaced secret, a reported resolution):
            // without them such a filter read the sort's index and tested each device until a page was full (2.2-4.6 s at a
            // million when the matches sit at the far end of the order). A new device (factory secret, resolution unknown)
            // is in none of them, so creating devices and their first issuances (the storm) write none; full indexes cost
            // the storm a quarter of its rate. The store's queries name the same conditions, as SQLite needs.
            foreach (var (name, column, condition) in new[] { ("ReplacedSecret", nameof(Device.SecretOrigin), ReplacedSecret), ("Resolved", nameof(Device.NameResolution), Resolved) })
            {
                device.HasIndex([column, nameof(Device.DeviceId)], $"IX_{tablePrefix}Devices_{name}_DeviceId").HasFilter(condition);
                device.HasIndex([column, nameof(Device.Status), nameof(Device.DeviceId)], $"IX_{tablePrefix}Devices_{name}_Status").HasFilter(condition);
                device.HasIndex([column, nameof(Device.LastSeenAt), nameof(Device.DeviceId)], $"IX_{tablePrefix}Devices_{name}_LastSeen").IsDescending(false, true, false).HasFilter(condition);
                device.HasIndex([column, nameof(Device.CurrentCertificateNotAfter), nameof(Device.DeviceId)], $"IX_{tablePrefix}Devices_{name}_Expiry").HasFilter(condition);
            }

            device.Property(d => d.Labels)
                .HasConversion(LabelsConverter, LabelsComparer)
                .HasMaxLength(16_384);
            device.Property(d => d.Addresses)
                .HasConversion(AddressesConverter, AddressesComparer)
                .HasMaxLength(255);
            // The devices whose records are pending, in device-ID order, and only those (a partial index): the
            // address-record job's query ("WHERE AddressRecordsPending ORDER BY DeviceId") reads a few entries, not a
            // million rows (SQLite cannot answer a bare boolean filter from an index on the flag: benchmarks, scale).
            device.HasIndex(d => d.DeviceId, "IX_" + tablePrefix + "Devices_AddressRecordsPending").HasFilter("\"AddressRecordsPending\"");
            device.Property(d => d.ConcurrencyStamp).IsConcurrencyToken();
        });

        modelBuilder.Entity<ZoneRecord>(record =>
        {
            record.ToTable(tablePrefix + "ZoneRecords");
            record.HasKey(r => r.Id);
            record.Property(r => r.Id).ValueGeneratedOnAdd();
            record.Property(r => r.Name).HasMaxLength(253).IsRequired();
            record.Property(r => r.Type).HasMaxLength(8).IsRequired();
            record.Property(r => r.Value).HasMaxLength(255).IsRequired();
            record.HasIndex(r => r.Name);
        });

        modelBuilder.Entity<ZoneChange>(change =>
        {
            change.ToTable(tablePrefix + "ZoneChanges");
            change.HasKey(c => c.Id);
            change.Property(c => c.Id).ValueGeneratedOnAdd();
            change.Property(c => c.Source).HasMaxLength(32).IsRequired();
            change.Property(c => c.Names).IsRequired();
            // Entries older than ZoneChanges.Retention go by this index.
            change.HasIndex(c => c.ChangedAt);
        });

        modelBuilder.Entity<DeviceCountEntry>(count =>
        {
            // Kept by triggers on the devices table (DeviceCounts): derived, so a copy of the database leaves it out
            // (the target's triggers count the devices as they arrive).
            count.ToTable(tablePrefix + "DeviceCounts");
            count.HasKey(c => c.Id);
            count.Property(c => c.Id).ValueGeneratedOnAdd();
            count.Property(c => c.Status).HasMaxLength(16);
            count.Property(c => c.NameResolution).HasMaxLength(16);
            count.Property(c => c.SecretOrigin).HasMaxLength(16);
            count.Metadata.SetAnnotation(DerivedTableAnnotation, true);
        });

        modelBuilder.Entity<DeviceCertificate>(certificate =>
        {
            certificate.ToTable(tablePrefix + "Certificates");
            certificate.HasKey(c => c.Id);
            certificate.Property(c => c.DeviceId).HasMaxLength(DeviceNames.MaxDeviceIdLength).IsRequired();
            certificate.HasIndex(c => new { c.DeviceId, c.IssuedAt });
            certificate.HasIndex(c => c.NotAfter);
            certificate.Property(c => c.Issuer).HasMaxLength(64).IsRequired();
            certificate.Property(c => c.CertificateAuthority).HasMaxLength(512);
            certificate.Property(c => c.SerialNumber).HasMaxLength(128).IsRequired();
            certificate.HasIndex(c => c.SerialNumber);
            certificate.HasIndex(c => new { c.Issuer, c.RevokedAt });
            // The revoked ones alone (few): the expiring counts take away the devices whose current one was revoked.
            certificate.HasIndex(c => c.RevokedAt, "IX_" + tablePrefix + "Certificates_Revoked").HasFilter("\"RevokedAt\" IS NOT NULL");
            certificate.Property(c => c.Thumbprint).HasMaxLength(64).IsRequired();
            certificate.Property(c => c.CertificatePem).IsRequired();
            certificate.Property(c => c.ConcurrencyStamp).IsConcurrencyToken();
        });

        modelBuilder.Entity<AuditEvent>(auditEvent =>
        {
            auditEvent.ToTable(tablePrefix + "AuditEvents");
            auditEvent.HasKey(e => e.Id);
            auditEvent.Property(e => e.Id).ValueGeneratedOnAdd();
            auditEvent.Property(e => e.DeviceId).HasMaxLength(DeviceNames.MaxDeviceIdLength);
            auditEvent.HasIndex(e => new { e.DeviceId, e.Id });
            auditEvent.HasIndex(e => new { e.Type, e.Timestamp });
            auditEvent.Property(e => e.Actor).HasMaxLength(128).IsRequired();
            auditEvent.Property(e => e.Type).HasMaxLength(64).IsRequired();
            auditEvent.Property(e => e.Details).HasMaxLength(2048);
        });

        modelBuilder.Entity<IssuerStateEntry>(state =>
        {
            state.ToTable(tablePrefix + "IssuerState");
            state.HasKey(s => s.Key);
            state.Property(s => s.Key).HasMaxLength(256);
            state.Property(s => s.Value).IsRequired();
        });

        modelBuilder.Entity<IssuanceLease>(lease =>
        {
            lease.ToTable(tablePrefix + "IssuanceLeases");
            lease.HasKey(l => l.DeviceId);
            lease.Property(l => l.DeviceId).HasMaxLength(DeviceNames.MaxDeviceIdLength);
            lease.Property(l => l.Holder).HasMaxLength(256).IsRequired();
        });

        modelBuilder.Entity<PendingIssuance>(pending =>
        {
            pending.ToTable(tablePrefix + "PendingIssuances");
            pending.HasKey(p => p.DeviceId);
            pending.Property(p => p.DeviceId).HasMaxLength(DeviceNames.MaxDeviceIdLength);
            pending.Property(p => p.Issuer).HasMaxLength(64).IsRequired();
            pending.Property(p => p.CertificateSigningRequest).HasMaxLength(16_384).IsRequired();
            pending.Property(p => p.PublicKey).HasMaxLength(4096).IsRequired();
            pending.Property(p => p.ProtectedPrivateKey).HasMaxLength(16_384);
            pending.Property(p => p.IssuerReference).HasMaxLength(2048);
        });

        modelBuilder.Entity<DnsRecordJournalEntry>(entry =>
        {
            entry.ToTable(tablePrefix + "DnsRecordJournal");
            entry.HasKey(e => e.Id);
            entry.HasIndex(e => e.DeviceId);
            entry.Property(e => e.DeviceId).HasMaxLength(DeviceNames.MaxDeviceIdLength).IsRequired();
            entry.Property(e => e.Holder).HasMaxLength(256).IsRequired();
            entry.Property(e => e.Name).HasMaxLength(255).IsRequired();
            entry.Property(e => e.Value).HasMaxLength(255).IsRequired();
            entry.Property(e => e.ProviderId).HasMaxLength(512);
        });

        modelBuilder.Entity<IssuanceQueueEntry>(entry =>
        {
            entry.ToTable(tablePrefix + "IssuanceQueue");
            entry.HasKey(e => e.Id);
            entry.Property(e => e.Id).ValueGeneratedOnAdd();
            entry.Property(e => e.Subject).HasMaxLength(253).IsRequired();
            entry.HasIndex(e => e.Subject).IsUnique();
            entry.Property(e => e.Bucket).HasMaxLength(128).IsRequired();
            entry.HasIndex(e => new { e.Bucket, e.Id });
        });

        modelBuilder.Entity<RateLimitCounter>(counter =>
        {
            counter.ToTable(tablePrefix + "RateLimits");
            counter.HasKey(c => c.Key);
            counter.Property(c => c.Key).HasMaxLength(128);
            counter.HasIndex(c => c.TheoreticalArrival);
        });

        modelBuilder.Entity<CsrRequest>(request =>
        {
            request.ToTable(tablePrefix + "CsrRequests");
            request.HasKey(r => r.Id);
            request.Property(r => r.Id).HasMaxLength(64);
            request.Property(r => r.Type).HasConversion<string>().HasMaxLength(16);
            request.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
            request.HasIndex(r => new { r.Status, r.SubmittedAt });
            request.HasIndex(r => new { r.Type, r.RevokedAt });
            request.Property(r => r.Message).HasMaxLength(1024);
            request.Property(r => r.CsrPem).HasMaxLength(16_384);
            request.Property(r => r.CsrSha256).HasMaxLength(64);
            request.HasIndex(r => r.CsrSha256);
            request.HasIndex(r => new { r.Status, r.NotAfter });
            request.Property(r => r.IpAddress).HasMaxLength(45);
            request.Property(r => r.ClientAddress).HasMaxLength(45);
            request.Property(r => r.ClientNetwork).HasMaxLength(64);
            request.HasIndex(r => new { r.ClientNetwork, r.Status });
            request.HasIndex(r => new { r.Status, r.DecidedAt });
            request.Property(r => r.DecidedBy).HasMaxLength(128);
            request.Property(r => r.SerialNumber).HasMaxLength(128);
            request.Property(r => r.Metadata)
                .HasConversion(LabelsConverter, LabelsComparer)
                .HasMaxLength(CsrRequest.MaxMetadataJsonLength);
            request.Property(r => r.ConcurrencyStamp).IsConcurrencyToken();
        });

        modelBuilder.MapAcmeServer(tablePrefix);

        // Timestamps are stored as UTC date-times: SQLite can then compare and order them, and
        // PostgreSQL stores them as timestamptz.
        foreach (var entity in new[] { typeof(Device), typeof(DeviceCertificate), typeof(AuditEvent), typeof(IssuerStateEntry), typeof(IssuanceLease), typeof(CsrRequest), typeof(PendingIssuance), typeof(DnsRecordJournalEntry), typeof(ZoneRecord), typeof(ZoneChange), typeof(IssuanceQueueEntry), typeof(DeviceAcmeAccount), typeof(DeviceAcmeOrder) })
        {
            foreach (var property in modelBuilder.Entity(entity).Metadata.GetProperties())
            {
                if (property.ClrType == typeof(DateTimeOffset))
                {
                    property.SetValueConverter(UtcConverter);
                }
                else if (property.ClrType == typeof(DateTimeOffset?))
                {
                    property.SetValueConverter(NullableUtcConverter);
                }
            }
        }

        return modelBuilder;
    }

    /// <summary>The ACME front door's accounts, orders and used nonces.</summary>
    private static void MapAcmeServer(this ModelBuilder modelBuilder, string tablePrefix)
    {
        modelBuilder.Entity<DeviceAcmeAccount>(account =>
        {
            account.ToTable(tablePrefix + "AcmeAccounts");
            account.HasKey(a => a.Id);
            account.Property(a => a.Id).HasMaxLength(64);
            account.Property(a => a.DeviceId).HasMaxLength(DeviceNames.MaxDeviceIdLength).IsRequired();
            account.HasIndex(a => a.DeviceId);
            account.Property(a => a.Jwk).HasMaxLength(2048).IsRequired();
            account.Property(a => a.KeyThumbprint).HasMaxLength(64).IsRequired();
            account.HasIndex(a => a.KeyThumbprint).IsUnique();
            account.Property(a => a.Status).HasConversion<string>().HasMaxLength(16);
            account.Property(a => a.ConcurrencyStamp).IsConcurrencyToken();
        });

        modelBuilder.Entity<DeviceAcmeOrder>(order =>
        {
            order.ToTable(tablePrefix + "AcmeOrders");
            order.HasKey(o => o.Id);
            order.Property(o => o.Id).HasMaxLength(64);
            order.Property(o => o.AccountId).HasMaxLength(64).IsRequired();
            order.HasIndex(o => o.AccountId);
            order.Property(o => o.DeviceId).HasMaxLength(DeviceNames.MaxDeviceIdLength).IsRequired();
            order.HasIndex(o => new { o.DeviceId, o.Status });
            order.HasIndex(o => o.Expires);
            order.Property(o => o.Hostname).HasMaxLength(253).IsRequired();
            order.Property(o => o.Status).HasConversion<string>().HasMaxLength(16);
            order.Property(o => o.Csr).HasMaxLength(16_384);
            order.Property(o => o.ErrorType).HasMaxLength(128);
            order.Property(o => o.ErrorDetail).HasMaxLength(1024);
            order.Property(o => o.ConcurrencyStamp).IsConcurrencyToken();
        });

        modelBuilder.Entity<AcmeNonceEntry>(nonce =>
        {
            nonce.ToTable(tablePrefix + "AcmeNonces");
            nonce.HasKey(n => n.Value);
            nonce.Property(n => n.Value).HasMaxLength(64);
            nonce.HasIndex(n => n.ExpiresAt);
        });
    }

    private static readonly ValueConverter<DateTimeOffset, DateTime> UtcConverter = new(
        v => v.UtcDateTime,
        v => new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)));

    private static readonly ValueConverter<DateTimeOffset?, DateTime?> NullableUtcConverter = new(
        v => v.HasValue ? v.Value.UtcDateTime : null,
        v => v.HasValue ? new DateTimeOffset(DateTime.SpecifyKind(v.Value, DateTimeKind.Utc)) : null);

    private static readonly ValueConverter<IDictionary<string, string>, string> LabelsConverter = new(
        v => JsonSerializer.Serialize(v, JsonSerializerOptions.Default),
        v => JsonSerializer.Deserialize<Dictionary<string, string>>(v, JsonSerializerOptions.Default) ?? new Dictionary<string, string>());

    // A device's addresses as one column: canonical texts joined by spaces (at most 4 × 39 characters).
    private static readonly ValueConverter<IReadOnlyList<IPAddress>, string> AddressesConverter = new(
        v => string.Join(' ', v.Select(a => a.ToString())),
        v => v.Length == 0 ? Array.Empty<IPAddress>() : v.Split(' ', StringSplitOptions.None).Select(IPAddress.Parse).ToArray());

    private static readonly ValueComparer<IReadOnlyList<IPAddress>> AddressesComparer = new(
        (a, b) => a!.SequenceEqual(b!),
        v => v.Aggregate(0, (hash, a) => HashCode.Combine(hash, a)),
        v => v.ToArray());

    private static readonly ValueComparer<IDictionary<string, string>> LabelsComparer = new(
        (a, b) => a!.Count == b!.Count && !a.Except(b).Any(),
        v => v.Aggregate(0, (hash, pair) => HashCode.Combine(hash, pair.Key, pair.Value)),
        v => new Dictionary<string, string>(v));
}
