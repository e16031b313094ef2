using System.Collections.Concurrent;

namespace Sndctl.Provisioning.Core.Tests.Fakes;

/// <summary>
/// The store seams in memory, with the semantics the EF stores have where the core relies on them:
/// each read is a copy, updates are compare-and-swap on the concurrency stamp, leases expire.
/// One <see cref="InMemoryStores"/> is one database. The store contract (InMemoryStoresContractTests) holds it to that.
/// </summary>
internal sealed class InMemoryStores(TimeProvider time) : IDeviceStore, ICertificateStore, IAuditEventStore, IIssuanceLeaseStore, IIssuerStateStore, IIssuanceJournalStore, IRateLimitStore
{
    private readonly Dictionary<string, long> _rateLimits = new(StringComparer.Ordinal);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Device> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, DeviceCertificate> _certificates = [];
    private readonly List<AuditEvent> _events = [];
    private readonly Dictionary<string, (string Holder, DateTimeOffset Expires)> _leases = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _state = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingIssuance> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, DnsRecordJournalEntry> _dnsRecords = [];

    public IReadOnlyList<AuditEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    // Devices

    Task<Device?> IDeviceStore.FindAsync(string deviceId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_devices.TryGetValue(deviceId, out var device) ? Copy(device) : null);
        }
    }

    public Task CreateAsync(IReadOnlyCollection<Device> devices, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (devices.Any(d => _devices.ContainsKey(d.DeviceId)))
            {
                throw new DuplicateDeviceException($"Device '{devices.First(d => _devices.ContainsKey(d.DeviceId)).DeviceId}' exists.");
            }

            foreach (var device in devices)
            {
                _devices[device.DeviceId] = Copy(device);
            }
        }

        return Task.CompletedTask;
    }

    public Task UpdateAsync(Device device, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_devices.TryGetValue(device.DeviceId, out var stored) || stored.ConcurrencyStamp != device.ConcurrencyStamp)
            {
                throw new ConcurrencyConflictException($"Device '{device.DeviceId}' was changed or deleted by someone else.");
            }

            device.ConcurrencyStamp = Guid.NewGuid();
            _devices[device.DeviceId] = Copy(device);
        }

        return Task.CompletedTask;
    }

    Task<bool> IDeviceStore.DeleteAsync(string deviceId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // As the EF store: revoked certificates stay for the revocation list, journalled DNS records for the janitor.
            foreach (var id in _certificates.Values.Where(c => c.DeviceId == deviceId && c.RevokedAt is null).Select(c => c.Id).ToList())
            {
                _certificates.Remove(id);
            }

            _leases.Remove(deviceId);
            _pending.Remove(deviceId);
            return Task.FromResult(_devices.Remove(deviceId));
        }
    }

    public Task<Page<Device>> ListAsync(DeviceQuery query, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var search = query.Search?.Trim().ToLowerInvariant();
            var all = Order(_devices.Values
                .Where(d => query.Status is null || d.Status == query.Status)
                .Where(d => query.FactorySecret is null || (d.SecretOrigin == DeviceSecretOrigin.Factory) == query.FactorySecret)
                .Where(d => query.NameResolution is null || d.NameResolution == query.NameResolution)
                .Where(d => string.IsNullOrEmpty(search) || d.Hostname.StartsWith(search, StringComparison.Ordinal)), query.Sort, query.Descending)
                .ToList();
            return Task.FromResult(new Page<Device>([.. all.Skip((query.Page - 1) * query.PageSize).Take(query.PageSize).Select(Copy)], all.Count, query.Page, query.PageSize));
        }
    }

    /// <summary>The EF store's orders: status by its stored name (ties by ID in its direction), devices without a value last, ties by ID.</summary>
    private static IEnumerable<Device> Order(IEnumerable<Device> devices, DeviceSort sort, bool descending)
    {
        IOrderedEnumerable<Device> ordered = (sort, descending) switch
        {
            (DeviceSort.DeviceId, false) => devices.OrderBy(d => d.DeviceId, StringComparer.Ordinal),
            (DeviceSort.DeviceId, true) => devices.OrderByDescending(d => d.DeviceId, StringComparer.Ordinal),
            (DeviceSort.Status, false) => devices.OrderBy(d => d.Status.ToString(), StringComparer.Ordinal),
            (DeviceSort.Status, true) => devices.OrderByDescending(d => d.Status.ToString(), StringComparer.Ordinal).ThenByDescending(d => d.DeviceId, StringComparer.Ordinal),
            (DeviceSort.LastSeen, false) => devices.OrderBy(d => d.LastSeenAt is null).ThenBy(d => d.LastSeenAt),
            (DeviceSort.LastSeen, true) => devices.OrderBy(d => d.LastSeenAt is null).ThenByDescending(d => d.LastSeenAt),
            (DeviceSort.Expiry, false) => devices.OrderBy(d => d.CurrentCertificateNotAfter is null).ThenBy(d => d.CurrentCertificateNotAfter),
            (DeviceSort.Expiry, true) => devices.OrderBy(d => d.CurrentCertificateNotAfter is null).ThenByDescending(d => d.CurrentCertificateNotAfter),
            (_, false) => devices.OrderBy(d => d.CreatedAt),
            _ => devices.OrderByDescending(d => d.CreatedAt),
        };
        return ordered.ThenBy(d => d.DeviceId, StringComparer.Ordinal);
    }

    public Task<IReadOnlyList<DeviceCertificate>> ListCurrentNotDueAsync(string issuer, DateTimeOffset now, (DateTimeOffset NotAfter, string DeviceId)? after, int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<DeviceCertificate>>([.. _devices.Values
                .Where(d => d.CurrentCertificateId is not null && d.CurrentCertificateNotAfter > now)
                .Where(d => after is not var (a, id) || d.CurrentCertificateNotAfter > a || (d.CurrentCertificateNotAfter == a && string.CompareOrdinal(d.DeviceId, id) > 0))
                .OrderBy(d => d.CurrentCertificateNotAfter).ThenBy(d => d.DeviceId, StringComparer.Ordinal)
                .Select(d => _certificates[d.CurrentCertificateId!.Value])
                .Where(c => c.Issuer == issuer && c.RevokedAt is null && c.RenewAfter > now)
                .Take(max)
                .Select(Copy)]);
        }
    }

    public Task SetRenewAfterAsync(Guid id, DateTimeOffset renewAfter, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var c = _certificates[id];
            _certificates[id] = new DeviceCertificate
            {
                Id = c.Id, DeviceId = c.DeviceId, Issuer = c.Issuer, CertificateAuthority = c.CertificateAuthority, SerialNumber = c.SerialNumber, Thumbprint = c.Thumbprint,
                CertificatePem = c.CertificatePem, ProtectedPrivateKey = c.ProtectedPrivateKey, NotBefore = c.NotBefore, NotAfter = c.NotAfter,
                RenewAfter = renewAfter, IssuedAt = c.IssuedAt, RevokedAt = c.RevokedAt, EarlyReissue = c.EarlyReissue, ReplacesId = c.ReplacesId, ConcurrencyStamp = c.ConcurrencyStamp,
            };
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<DeviceCertificate>> ListRenewalDueAsync(DateTimeOffset now, DateTimeOffset seenSince, int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<DeviceCertificate>>([.. _devices.Values
                .Where(d => d.CurrentCertificateId is not null && d.Status == DeviceStatus.Active && d.LastSeenAt >= seenSince)
                .Select(d => _certificates[d.CurrentCertificateId!.Value])
                .Where(c => c.RevokedAt is null && c.ProtectedPrivateKey is not null && c.RenewAfter <= now && c.NotAfter > now)
                .OrderBy(c => c.RenewAfter)
                .Take(max)
                .Select(Copy)]);
        }
    }

    public Task<IReadOnlyList<Device>> ListAddressRecordsPendingAsync(int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<Device>>([.. _devices.Values.Where(d => d.AddressRecordsPending).OrderBy(d => d.DeviceId, StringComparer.Ordinal).Take(max).Select(Copy)]);
        }
    }

    // Rate limits: the EF store's generic cell-rate algorithm, one theoretical arrival time (TAT, Unix ms) per key.

    public Task<TimeSpan?> TryAcquireAsync(string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var (interval, windowMs, nowMs) = (Interval(limit, window), (long)window.TotalMilliseconds, now.ToUnixTimeMilliseconds());
            var next = Math.Max(_rateLimits.GetValueOrDefault(key, long.MinValue / 2), nowMs) + interval;
            if (next - nowMs <= windowMs)
            {
                _rateLimits[key] = next;
                return Task.FromResult<TimeSpan?>(null);
            }

            return Task.FromResult<TimeSpan?>(TimeSpan.FromMilliseconds(Math.Max(1, _rateLimits[key] + interval - windowMs - nowMs)));
        }
    }

    public Task<int> PurgeAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var idle = _rateLimits.Where(r => r.Value < now.ToUnixTimeMilliseconds()).Select(r => r.Key).ToList();
            idle.ForEach(key => _rateLimits.Remove(key));
            return Task.FromResult(idle.Count);
        }
    }

    public Task ReturnAsync(string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_rateLimits.TryGetValue(key, out var tat))
            {
                _rateLimits[key] = tat - Interval(limit, window);
            }
        }

        return Task.CompletedTask;
    }

    public Task ExhaustAsync(string key, int limit, TimeSpan window, DateTimeOffset until, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var target = until.ToUnixTimeMilliseconds() + (long)window.TotalMilliseconds - Interval(limit, window);
            _rateLimits[key] = Math.Max(_rateLimits.GetValueOrDefault(key, long.MinValue), target);
        }

        return Task.CompletedTask;
    }

    public Task<(int Used, DateTimeOffset NextAt)> PeekAsync(string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var (interval, nowMs) = (Interval(limit, window), now.ToUnixTimeMilliseconds());
            if (!_rateLimits.TryGetValue(key, out var tat) || tat <= nowMs)
            {
                return Task.FromResult((0, now));
            }

            var used = (int)Math.Clamp((tat - nowMs + interval - 1) / interval, 0, limit);
            var next = tat + interval - (long)window.TotalMilliseconds;
            return Task.FromResult((used, next <= nowMs ? now : DateTimeOffset.FromUnixTimeMilliseconds(next)));
        }
    }

    private static long Interval(int limit, TimeSpan window) => Math.Max(1, (long)(window.TotalMilliseconds / Math.Max(1, limit)));

    public Task<IReadOnlyDictionary<DeviceNameResolution, int>> CountByNameResolutionAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyDictionary<DeviceNameResolution, int>>(Enum.GetValues<DeviceNameResolution>().ToDictionary(r => r, r => _devices.Values.Count(d => d.NameResolution == r)));
        }
    }

    public Task<IReadOnlyDictionary<DeviceStatus, int>> CountByStatusAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyDictionary<DeviceStatus, int>>(_devices.Values.GroupBy(d => d.Status).ToDictionary(g => g.Key, g => g.Count()));
        }
    }

    // Certificates

    public Task<DeviceCertificate?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_certificates.TryGetValue(id, out var certificate) ? Copy(certificate) : null);
        }
    }

    public Task<IReadOnlyDictionary<Guid, DeviceCertificate>> FindManyAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyDictionary<Guid, DeviceCertificate>>(ids.Where(_certificates.ContainsKey).ToDictionary(id => id, id => Copy(_certificates[id])));
        }
    }

    public Task<IReadOnlyList<DeviceCertificate>> ListByDeviceAsync(string deviceId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<DeviceCertificate>>([.. _certificates.Values.Where(c => c.DeviceId == deviceId).OrderByDescending(c => c.IssuedAt).Select(Copy)]);
        }
    }

    /// <summary>The next certificate write fails, as a database that went away (or a process that died) between signing and storing.</summary>
    public bool FailNextCertificateAdd { get; set; }

    public Task AddAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (FailNextCertificateAdd)
            {
                FailNextCertificateAdd = false;
                throw new InvalidOperationException("The database went away.");
            }

            _certificates.Add(certificate.Id, Copy(certificate));
        }

        return Task.CompletedTask;
    }

    public Task UpdateAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_certificates.TryGetValue(certificate.Id, out var stored) || stored.ConcurrencyStamp != certificate.ConcurrencyStamp)
            {
                throw new ConcurrencyConflictException($"Certificate {certificate.SerialNumber} was changed by someone else.");
            }

            certificate.ConcurrencyStamp = Guid.NewGuid();
            _certificates[certificate.Id] = Copy(certificate);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<DeviceCertificate>> FindBySerialNumberAsync(string serialNumber, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<DeviceCertificate>>([.. _certificates.Values.Where(c => c.SerialNumber == serialNumber).Select(Copy)]);
        }
    }

    public Task<IReadOnlyList<DateTimeOffset>> ListEarlyReissuesAsync(string deviceId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<DateTimeOffset>>([.. _certificates.Values.Where(c => c.DeviceId == deviceId && c.EarlyReissue && c.IssuedAt >= since).Select(c => c.IssuedAt).Order()]);
        }
    }

    public Task<IReadOnlyList<(string SerialNumber, DateTimeOffset RevokedAt)>> ListRevokedAsync(string issuer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<(string, DateTimeOffset)>>([.. _certificates.Values.Where(c => c.Issuer == issuer && c.RevokedAt is not null && c.NotAfter > now).Select(c => (c.SerialNumber, c.RevokedAt!.Value))]);
        }
    }

    public Task<int> CountCurrentExpiringAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var current = _devices.Values.Select(d => d.CurrentCertificateId).OfType<Guid>().ToHashSet();
            return Task.FromResult(_certificates.Values.Count(c => current.Contains(c.Id) && c.RevokedAt is null && c.NotAfter < before));
        }
    }

    public Task<int> CountCurrentRenewalDueAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var current = _devices.Values.Select(d => d.CurrentCertificateId).OfType<Guid>().ToHashSet();
            return Task.FromResult(_certificates.Values.Count(c => current.Contains(c.Id) && c.RevokedAt is null && c.RenewAfter < before));
        }
    }

    public Task<IReadOnlyList<DeviceCertificate>> ListCurrentExpiringAsync(DateTimeOffset after, DateTimeOffset through, int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var current = _devices.Values.Select(d => d.CurrentCertificateId).OfType<Guid>().ToHashSet();
            return Task.FromResult<IReadOnlyList<DeviceCertificate>>([.. _certificates.Values
                .Where(c => current.Contains(c.Id) && c.RevokedAt is null && c.NotAfter > after && c.NotAfter <= through)
                .OrderBy(c => c.NotAfter).Take(max).Select(Copy)]);
        }
    }

    // Audit events

    public Task AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            AddEvent(auditEvent);
        }

        return Task.CompletedTask;
    }

    /// <summary>Appends with the next ID, as the database's identity column would (callers hold the gate).</summary>
    private void AddEvent(AuditEvent auditEvent)
    {
        _events.Add(new AuditEvent { Id = ++_lastEventId, Timestamp = auditEvent.Timestamp, DeviceId = auditEvent.DeviceId, Actor = auditEvent.Actor, Type = auditEvent.Type, Details = auditEvent.Details });
    }

    private long _lastEventId;

    public Task<IReadOnlyList<AuditEvent>> ListAfterAsync(long afterId, DateTimeOffset writtenBefore, int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<AuditEvent>>([.. _events.Where(e => e.Id > afterId && e.Timestamp < writtenBefore).OrderBy(e => e.Id).Take(max)]);
        }
    }

    public Task<int> PurgeBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_events.RemoveAll(e => e.Timestamp < before));
        }
    }

    public Task<Page<AuditEvent>> ListAsync(string? deviceId, int page, int pageSize, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var all = _events.Where(e => deviceId is null || e.DeviceId == deviceId).Reverse().ToList();
            return Task.FromResult(new Page<AuditEvent>([.. all.Skip((page - 1) * pageSize).Take(pageSize)], all.Count, page, pageSize));
        }
    }

    // Leases: taken when free, expired or already ours, as the database's conditional upsert does.

    public Task<bool> TryAcquireAsync(string deviceId, string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var instance = holder.LastIndexOf('#') is > 0 and var hash ? holder[..(hash + 1)] : null;
            if (_leases.TryGetValue(deviceId, out var lease) && lease.Holder != holder && lease.Expires > now
                && (instance is null || !lease.Holder.StartsWith(instance, StringComparison.Ordinal)))
            {
                return Task.FromResult(false);
            }

            _leases[deviceId] = (holder, now + duration);
            return Task.FromResult(true);
        }
    }

    public Task ReleaseAsync(string deviceId, string holder, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_leases.TryGetValue(deviceId, out var lease) && lease.Holder == holder)
            {
                _leases.Remove(deviceId);
            }
        }

        return Task.CompletedTask;
    }

    public Task<int> PurgeExpiredAsync(TimeSpan expiredFor, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var before = time.GetUtcNow() - expiredFor;
            var expired = _leases.Where(l => l.Value.Expires < before).Select(l => l.Key).ToList();
            expired.ForEach(key => _leases.Remove(key));
            return Task.FromResult(expired.Count);
        }
    }

    /// <summary>Another instance holds the device's issuance lease (or takes it over, ignoring its holder).</summary>
    public void HoldLease(string deviceId, TimeSpan duration, string holder = "another-instance")
    {
        lock (_gate)
        {
            _leases[deviceId] = (holder, time.GetUtcNow() + duration);
        }
    }

    public string? LeaseHolder(string deviceId)
    {
        lock (_gate)
        {
            return _leases.TryGetValue(deviceId, out var lease) ? lease.Holder : null;
        }
    }

    // Issuance journal

    public Task<PendingIssuance?> FindPendingAsync(string deviceId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_pending.TryGetValue(deviceId, out var pending) ? Copy(pending) : null);
        }
    }

    public Task SavePendingAsync(PendingIssuance pending, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _pending[pending.DeviceId] = Copy(pending);
        }

        return Task.CompletedTask;
    }

    public Task CompleteAsync(DeviceCertificate certificate, Device device, AuditEvent issued, PendingIssuance? pending, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_devices.TryGetValue(device.DeviceId, out var stored) || stored.ConcurrencyStamp != device.ConcurrencyStamp)
            {
                throw new ConcurrencyConflictException($"Device '{device.DeviceId}' was changed or deleted by someone else.");
            }

            if (FailNextCertificateAdd)
            {
                FailNextCertificateAdd = false;
                throw new InvalidOperationException("The database went away.");
            }

            device.ConcurrencyStamp = Guid.NewGuid();
            _devices[device.DeviceId] = Copy(device);
            _certificates.Add(certificate.Id, Copy(certificate));
            AddEvent(issued);
            if (pending is not null)
            {
                _pending.Remove(device.DeviceId);
            }
        }

        return Task.CompletedTask;
    }

    public Task RemovePendingAsync(string deviceId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _pending.Remove(deviceId);
        }

        return Task.CompletedTask;
    }

    public Task AddDnsRecordAsync(DnsRecordJournalEntry entry, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _dnsRecords.Add(entry.Id, Copy(entry));
        }

        return Task.CompletedTask;
    }

    public Task UpdateDnsRecordAsync(DnsRecordJournalEntry entry, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_dnsRecords.TryGetValue(entry.Id, out var stored))
            {
                stored.ProviderId = entry.ProviderId;
            }
        }

        return Task.CompletedTask;
    }

    public Task RemoveDnsRecordAsync(Guid id, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _dnsRecords.Remove(id);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<DnsRecordJournalEntry>> ListDnsRecordsAsync(string deviceId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<DnsRecordJournalEntry>>([.. _dnsRecords.Values.Where(e => e.DeviceId == deviceId).OrderBy(e => e.CreatedAt).Select(Copy)]);
        }
    }

    public Task<IReadOnlyList<string>> ListDevicesWithOrphanedDnsRecordsAsync(int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            return Task.FromResult<IReadOnlyList<string>>([.. _dnsRecords.Values
                .Where(e => !(_leases.TryGetValue(e.DeviceId, out var lease) && lease.Holder == e.Holder && lease.Expires > now))
                .Select(e => e.DeviceId)
                .Distinct()
                .Take(max)]);
        }
    }

    /// <summary>Every journalled DNS record, as the database holds it.</summary>
    public IReadOnlyList<DnsRecordJournalEntry> DnsRecords
    {
        get
        {
            lock (_gate)
            {
                return [.. _dnsRecords.Values.Select(Copy)];
            }
        }
    }

    private static PendingIssuance Copy(PendingIssuance p) => new()
    {
        DeviceId = p.DeviceId,
        Issuer = p.Issuer,
        CertificateSigningRequest = p.CertificateSigningRequest,
        PublicKey = p.PublicKey,
        ProtectedPrivateKey = p.ProtectedPrivateKey,
        ReplacesCertificateId = p.ReplacesCertificateId,
        Early = p.Early,
        IssuerReference = p.IssuerReference,
        StartedAt = p.StartedAt,
    };

    private static DnsRecordJournalEntry Copy(DnsRecordJournalEntry e) => new()
    {
        Id = e.Id,
        DeviceId = e.DeviceId,
        Holder = e.Holder,
        Name = e.Name,
        Value = e.Value,
        ProviderId = e.ProviderId,
        CreatedAt = e.CreatedAt,
    };

    // Issuer state

    public Task<string?> GetAsync(string key, CancellationToken cancellationToken) => Task.FromResult(_state.TryGetValue(key, out var value) ? value : null);

    public Task<string> GetOrAddAsync(string key, string value, CancellationToken cancellationToken) => Task.FromResult(_state.GetOrAdd(key, value));

    public Task SetAsync(string key, string value, CancellationToken cancellationToken)
    {
        _state[key] = value;
        return Task.CompletedTask;
    }

    private static Device Copy(Device d) => new()
    {
        DeviceId = d.DeviceId,
        Hostname = d.Hostname,
        SecretHash = [.. d.SecretHash],
        ProtectedSecret = d.ProtectedSecret,
        PendingSecretHash = d.PendingSecretHash is null ? null : [.. d.PendingSecretHash],
        PendingProtectedSecret = d.PendingProtectedSecret,
        SecretOrigin = d.SecretOrigin,
        SecretChangedAt = d.SecretChangedAt,
        NameResolution = d.NameResolution,
        NameResolutionAt = d.NameResolutionAt,
        Status = d.Status,
        Labels = new Dictionary<string, string>(d.Labels, StringComparer.Ordinal),
        CreatedAt = d.CreatedAt,
        RegisteredAt = d.RegisteredAt,
        LastSeenAt = d.LastSeenAt,
        CurrentCertificateId = d.CurrentCertificateId,
        CurrentCertificateNotAfter = d.CurrentCertificateNotAfter,
        Addresses = [.. d.Addresses],
        AddressRecordsPending = d.AddressRecordsPending,
        AddressChangesRestoredAt = d.AddressChangesRestoredAt,
        ConcurrencyStamp = d.ConcurrencyStamp,
    };

    private static DeviceCertificate Copy(DeviceCertificate c) => new()
    {
        Id = c.Id,
        DeviceId = c.DeviceId,
        Issuer = c.Issuer,
        CertificateAuthority = c.CertificateAuthority,
        SerialNumber = c.SerialNumber,
        Thumbprint = c.Thumbprint,
        CertificatePem = c.CertificatePem,
        ProtectedPrivateKey = c.ProtectedPrivateKey,
        NotBefore = c.NotBefore,
        NotAfter = c.NotAfter,
        RenewAfter = c.RenewAfter,
        IssuedAt = c.IssuedAt,
        RevokedAt = c.RevokedAt,
        ReplacesId = c.ReplacesId,
        EarlyReissue = c.EarlyReissue,
        ConcurrencyStamp = c.ConcurrencyStamp,
    };
}
