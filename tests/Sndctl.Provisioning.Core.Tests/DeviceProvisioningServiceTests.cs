using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Sndctl.Provisioning.Core.Tests.Fakes;

namespace Sndctl.Provisioning.Core.Tests;

/// <summary>
/// Every outcome of register and renew, decided by <c>DeviceProvisioningService</c> and the
/// <c>IssuanceCoordinator</c> behind it, over in-memory stores and a fake issuer (no HTTP, no database).
/// </summary>
public sealed class DeviceProvisioningServiceTests : IAsyncDisposable
{
    private const string BaseDomain = "devices.example.com";
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly InMemoryStores _stores;
    private readonly FakeIssuer _issuer;
    private readonly RecordingDnsProvider _dns = new();
    private readonly ServiceProvider _services;

    public DeviceProvisioningServiceTests()
    {
        _stores = new InMemoryStores(_time);
        _issuer = new FakeIssuer(_time);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(_time);
        services.AddKeyedSingleton<TimeProvider>(RemoteTime.ServiceKey, _time);
        services.AddSingleton<IDeviceStore>(_stores);
        services.AddSingleton<ICertificateStore>(_stores);
        services.AddSingleton<IAuditEventStore>(_stores);
        services.AddSingleton<IIssuanceLeaseStore>(_stores);
        services.AddSingleton<IIssuerStateStore>(_stores);
        services.AddSingleton<IIssuanceJournalStore>(_stores);
        services.AddSingleton<IRateLimitStore>(_stores);
        services.AddSingleton<IDnsProvider>(_dns);
        services.AddDeviceProvisioning(o =>
        {
            o.BaseDomain = BaseDomain;
            o.DeviceIssuanceLimit = 2;
        });
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.RemoveAll<ICertificateIssuer>();
        services.AddSingleton<ICertificateIssuer>(_issuer);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        _issuer.Dispose();
    }

    [Fact]
    public async Task An_unknown_device_and_a_wrong_secret_are_both_unauthorized_and_issue_nothing()
    {
        var device = await CreateDeviceAsync();

        var unknown = await RegisterAsync(new ProvisioningRequest("nosuchdevice", device.Secret, null, null));
        var wrong = await RegisterAsync(new ProvisioningRequest(device.DeviceId, "wrong-" + device.Secret, null, null));

        Assert.Equal(ProvisioningOutcome.Unauthorized, unknown.Outcome);
        Assert.Equal(ProvisioningOutcome.Unauthorized, wrong.Outcome);
        Assert.Equal(0, _issuer.Issued);
    }

    [Fact]
    public async Task A_disabled_device_is_refused_before_any_issuance()
    {
        var device = await CreateDeviceAsync();
        await Scoped<IDeviceAdminService>().SetEnabledAsync(device.DeviceId, false, "test", default);

        var result = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, null));

        Assert.Equal(ProvisioningOutcome.Disabled, result.Outcome);
        Assert.Equal(0, _issuer.Issued);
    }

    [Fact]
    public async Task Renewing_needs_the_devices_own_hostname_and_a_CSR_must_name_it()
    {
        var device = await CreateDeviceAsync();
        var other = await CreateDeviceAsync();

        var missing = await RenewAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, null));
        var mismatch = await RenewAsync(new ProvisioningRequest(device.DeviceId, device.Secret, other.Hostname, null));
        var foreignCsr = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, Csr(other.Hostname, out _)));

        Assert.Equal(ProvisioningOutcome.Invalid, missing.Outcome);
        Assert.Equal(ProvisioningOutcome.HostnameMismatch, mismatch.Outcome);
        Assert.Equal(ProvisioningOutcome.Invalid, foreignCsr.Outcome);
        Assert.Equal(0, _issuer.Issued);
    }

    [Fact]
    public async Task The_first_registration_issues_and_the_next_calls_serve_the_same_certificate_and_key()
    {
        var device = await CreateDeviceAsync();
        var request = new ProvisioningRequest(device.DeviceId, device.Secret, null, null);

        var first = await RegisterAsync(request);
        var again = await RegisterAsync(request);
        var renewed = await RenewAsync(request with { Hostname = device.Hostname });

        Assert.Equal(ProvisioningOutcome.Issued, first.Outcome);
        Assert.Equal(ProvisioningOutcome.Current, again.Outcome);
        Assert.Equal(ProvisioningOutcome.Current, renewed.Outcome);
        Assert.Equal(1, _issuer.Issued);
        Assert.Equal(first.Certificate!.CertificatePem, again.Certificate!.CertificatePem);
        Assert.Equal(first.Certificate.PrivateKeyPem, again.Certificate.PrivateKeyPem); // the server-made key, kept protected
        Assert.NotNull(first.Certificate.PrivateKeyPem);
        Assert.Equal(device.Hostname, first.Certificate.Hostname);
        Assert.Contains(_stores.Events, e => e.DeviceId == device.DeviceId && e.Type == AuditEventTypes.CertificateIssued);
    }

    [Fact]
    public async Task Ten_concurrent_registrations_of_one_device_cause_one_issuance()
    {
        var device = await CreateDeviceAsync();
        _issuer.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 10).Select(_ => RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, null))).ToList();
        _issuer.Gate.SetResult();

        var results = await Task.WhenAll(calls);

        Assert.All(results, r => Assert.Equal(ProvisioningOutcome.Issued, r.Outcome));
        Assert.Single(results.Select(r => r.Certificate!.CertificatePem).Distinct());
        Assert.Equal(1, _issuer.Issued);
    }

    [Fact]
    public async Task An_unavailable_CA_is_unavailable_with_its_retry_after_and_a_refusing_CA_is_failed()
    {
        var device = await CreateDeviceAsync();
        var request = new ProvisioningRequest(device.DeviceId, device.Secret, null, null);

        _issuer.FailNext = new CertificateAuthorityUnavailableException("rate limited", TimeSpan.FromMinutes(7));
        var unavailable = await RegisterAsync(request);
        _issuer.FailNext = new CertificateIssuanceException("badCSR");
        var failed = await RegisterAsync(request);
        var recovered = await RegisterAsync(request);

        Assert.Equal(ProvisioningOutcome.Unavailable, unavailable.Outcome);
        Assert.Equal(TimeSpan.FromMinutes(7), unavailable.RetryAfter);
        Assert.Equal(ProvisioningOutcome.Failed, failed.Outcome);
        Assert.Equal(ProvisioningOutcome.Issued, recovered.Outcome);

        // The device hears something stable; the operator reads why in the device's events.
        Assert.DoesNotContain("rate limited", unavailable.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("badCSR", failed.Detail, StringComparison.Ordinal);
        Assert.Contains(_stores.Events, e => e.DeviceId == device.DeviceId && e.Type == AuditEventTypes.CertificateFailed && e.Details == "badCSR");
        Assert.Contains(_stores.Events, e => e.DeviceId == device.DeviceId && e.Type == AuditEventTypes.CertificateFailed && e.Details == "rate limited");
    }

    [Fact]
    public async Task A_device_whose_CSR_the_CA_keeps_refusing_is_limited_after_five_refusals_an_hour_and_other_devices_are_not()
    {
        var device = await CreateDeviceAsync();
        var request = new ProvisioningRequest(device.DeviceId, device.Secret, null, null);

        // Each refusal cost an order at the CA: five within the hour, then 429 without asking the CA again.
        for (var i = 0; i < 5; i++)
        {
            _issuer.FailNext = new CertificateIssuanceException("badCSR: key is weak");
            Assert.Equal(ProvisioningOutcome.Failed, (await RegisterAsync(request)).Outcome);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        var asked = _issuer.Requests.Count;
        var limited = await RegisterAsync(request);
        Assert.Equal(ProvisioningOutcome.IssuanceLimited, limited.Outcome);
        Assert.InRange(limited.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Assert.Contains("refused", limited.Detail, StringComparison.Ordinal);
        Assert.Equal(asked, _issuer.Requests.Count);

        var other = await CreateDeviceAsync();
        Assert.Equal(ProvisioningOutcome.Issued, (await RegisterAsync(new ProvisioningRequest(other.DeviceId, other.Secret, null, null))).Outcome);

        // When its Retry-After has passed, the device may try again.
        _time.Advance(limited.RetryAfter.Value);
        Assert.Equal(ProvisioningOutcome.Issued, (await RegisterAsync(request)).Outcome);
    }

    [Fact]
    public async Task An_issuance_slower_than_the_wait_budget_is_pending_and_finishes_in_the_background()
    {
        var device = await CreateDeviceAsync();
        var request = new ProvisioningRequest(device.DeviceId, device.Secret, null, null);
        _issuer.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = RegisterAsync(request);
        for (var i = 0; i < 500 && !call.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1)); // past IssuanceWaitBudget (30 s)
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        var pending = await call;
        _issuer.Gate.SetResult();
        for (var i = 0; i < 500 && _issuer.Issued == 0; i++)
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        ProvisioningResult later;
        var attempts = 0;
        do
        {
            later = await RegisterAsync(request);
        }
        while (later.Outcome == ProvisioningOutcome.Pending && ++attempts < 100 && await Delay());

        Assert.Equal(ProvisioningOutcome.Pending, pending.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(5), pending.RetryAfter);
        Assert.Contains(later.Outcome, new[] { ProvisioningOutcome.Current, ProvisioningOutcome.Issued });
        Assert.Equal(1, _issuer.Issued);
    }

    [Fact]
    public async Task A_lease_held_by_another_instance_is_pending_without_issuing_here()
    {
        var device = await CreateDeviceAsync();
        _stores.HoldLease(device.DeviceId, TimeSpan.FromMinutes(5));

        var held = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, null));
        _time.Advance(TimeSpan.FromMinutes(6)); // the other instance died: its lease expires
        var taken = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, null));

        Assert.Equal(ProvisioningOutcome.Pending, held.Outcome);
        Assert.Equal(ProvisioningOutcome.Issued, taken.Outcome);
        Assert.Equal(1, _issuer.Issued);
    }

    [Fact]
    public async Task New_keys_while_the_certificate_is_valid_are_limited_per_device_but_its_own_key_is_still_served()
    {
        var device = await CreateDeviceAsync();
        var first = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, Csr(device.Hostname, out var firstKey)));
        var outcomes = new List<ProvisioningOutcome>();
        for (var i = 0; i < 3; i++)
        {
            outcomes.Add((await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, Csr(device.Hostname, out _)))).Outcome);
        }

        Assert.Equal(ProvisioningOutcome.Issued, first.Outcome);
        Assert.Equal([ProvisioningOutcome.Issued, ProvisioningOutcome.Issued, ProvisioningOutcome.IssuanceLimited], outcomes); // DeviceIssuanceLimit = 2
        Assert.Equal(3, _issuer.Issued);
        using (firstKey)
        {
            var other = await CreateDeviceAsync();
            Assert.Equal(ProvisioningOutcome.Issued, (await RegisterAsync(new ProvisioningRequest(other.DeviceId, other.Secret, null, null))).Outcome); // others are not limited
        }
    }

    [Fact]
    public async Task The_lease_is_renewed_while_a_slow_issuance_runs_so_no_other_instance_takes_the_device()
    {
        var device = await CreateDeviceAsync();
        _issuer.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, null));
        await WaitUntil(() => _stores.LeaseHolder(device.DeviceId) is not null);

        var takenByOthers = 0;
        for (var i = 0; i < 24; i++) // two minutes in 5 s steps: four times the 30 s lease
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(20, TestContext.Current.CancellationToken);
            takenByOthers += await _stores.TryAcquireAsync(device.DeviceId, "node-2#b", TimeSpan.FromSeconds(30), default) ? 1 : 0;
        }

        _issuer.Gate.SetResult();
        await WaitUntil(() => _stores.LeaseHolder(device.DeviceId) is null);

        Assert.Equal(0, takenByOthers);
        Assert.Equal(ProvisioningOutcome.Pending, (await call).Outcome); // past the 30 s wait budget
        Assert.Equal(1, _issuer.Issued);
    }

    [Fact]
    public async Task An_issuance_whose_lease_another_instance_took_stops_and_issues_nothing()
    {
        var device = await CreateDeviceAsync();
        _issuer.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, null));
        await WaitUntil(() => _stores.LeaseHolder(device.DeviceId) is not null);

        _stores.HoldLease(device.DeviceId, TimeSpan.FromMinutes(5), "node-2#b"); // e.g. this instance stalled past the lease
        _time.Advance(TimeSpan.FromSeconds(10)); // the next heartbeat finds the lease gone
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(ProvisioningOutcome.Unavailable, result.Outcome);
        Assert.Contains(_stores.Events, e => e.Type == AuditEventTypes.CertificateFailed && e.Details!.Contains("lease was lost", StringComparison.Ordinal));
        Assert.Equal(0, _issuer.Issued);
        Assert.Equal("node-2#b", _stores.LeaseHolder(device.DeviceId)); // its lease is not released by us
    }

    [Fact]
    public async Task Stopping_waits_for_the_issuance_under_way_and_keeps_its_certificate()
    {
        var device = await CreateDeviceAsync();
        _issuer.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, null));
        await WaitUntil(() => _stores.LeaseHolder(device.DeviceId) is not null);

        var stopping = Drain().StopAsync(TestContext.Current.CancellationToken);
        await Task.Delay(100, TestContext.Current.CancellationToken);
        var waited = !stopping.IsCompleted;
        _issuer.Gate.SetResult();
        await stopping.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.True(waited, "stopping waits for the issuance");
        Assert.Equal(ProvisioningOutcome.Issued, (await call).Outcome);
        Assert.Null(_stores.LeaseHolder(device.DeviceId));
    }

    [Fact]
    public async Task Stopping_past_the_shutdown_timeout_cancels_the_issuance_and_hands_its_lease_back()
    {
        var device = await CreateDeviceAsync();
        _issuer.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, null));
        await WaitUntil(() => _stores.LeaseHolder(device.DeviceId) is not null);

        await Drain().StopAsync(new CancellationToken(canceled: true)); // the shutdown timeout is over

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(ProvisioningOutcome.Unavailable, result.Outcome);
        Assert.Contains("shutting down", result.Detail, StringComparison.Ordinal);
        Assert.Null(_stores.LeaseHolder(device.DeviceId)); // another instance takes the device at once
        Assert.Equal(0, _issuer.Issued);
    }

    [Fact]
    public async Task The_fleet_statistics_job_reports_devices_by_status_and_expiring_certificates_as_metrics()
    {
        var registered = await CreateDeviceAsync();
        await CreateDeviceAsync();
        await RegisterAsync(new ProvisioningRequest(registered.DeviceId, registered.Secret, null, null));
        var meters = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var devices = new MetricCollector<int>(meters, "Sndctl.Provisioning.Core", "sndctl.provisioning.devices");
        using var expiring = new MetricCollector<int>(meters, "Sndctl.Provisioning.Core", "sndctl.provisioning.certificates.expiring");
        devices.RecordObservableInstruments();
        Assert.Empty(devices.GetMeasurementSnapshot()); // nothing until this instance has run the job

        var job = _services.GetServices<IProvisioningJob>().Single(j => j.Name == "fleet-statistics");
        await job.RunAsync(_services.CreateScope().ServiceProvider, TestContext.Current.CancellationToken);
        devices.RecordObservableInstruments();
        expiring.RecordObservableInstruments();

        var byStatus = devices.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["status"]!, m => m.Value);
        Assert.Equal(1, byStatus["active"]);
        Assert.Equal(1, byStatus["pending"]);
        Assert.Equal(0, byStatus["disabled"]);
        Assert.Equal(0, expiring.GetMeasurementSnapshot().Single(m => (string)m.Tags["within"]! == "30d").Value); // 90-day certificate
    }

    [Fact]
    public async Task An_issuance_whose_process_died_is_resumed_with_the_same_CSR_key_and_CA_order_and_its_DNS_record_removed()
    {
        var device = await CreateDeviceAsync();
        var hostname = device.DeviceId + "." + BaseDomain;

        // What a process killed mid-issuance leaves: its lease, the unfinished issuance with the order the
        // CA took, and the challenge record it created and never removed.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=" + hostname, key, HashAlgorithmName.SHA256).CreateSigningRequest();
        var protector = _services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Internal.ProtectionPurposes.DevicePrivateKey);
        await _stores.SavePendingAsync(
            new PendingIssuance
            {
                DeviceId = device.DeviceId,
                Issuer = _issuer.Name,
                CertificateSigningRequest = csr,
                PublicKey = key.ExportSubjectPublicKeyInfo(),
                ProtectedPrivateKey = protector.Protect(key.ExportPkcs8PrivateKeyPem()),
                IssuerReference = "https://ca.example/order/1",
                StartedAt = _time.GetUtcNow(),
            },
            default);
        var record = await _dns.CreateTxtRecordAsync("_acme-challenge." + hostname, "token-1", default);
        await _stores.AddDnsRecordAsync(new DnsRecordJournalEntry { Id = Guid.NewGuid(), DeviceId = device.DeviceId, Holder = "host-1#dead", Name = record.Name, Value = record.Value, ProviderId = record.ProviderId, CreatedAt = _time.GetUtcNow() }, default);
        _stores.HoldLease(device.DeviceId, TimeSpan.FromSeconds(30), "host-1#dead");
        _time.Advance(TimeSpan.FromSeconds(31));

        var result = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret));

        Assert.Equal(ProvisioningOutcome.Issued, result.Outcome);
        var request = Assert.Single(_issuer.Requests);
        Assert.Equal("https://ca.example/order/1", request.Journal!.ResumeFrom);
        Assert.Equal(csr, request.CertificateSigningRequest.ToArray());
        Assert.Equal(key.ExportPkcs8PrivateKeyPem(), result.Certificate!.PrivateKeyPem);
        Assert.Null(await _stores.FindPendingAsync(device.DeviceId, default));
        Assert.Empty(_dns.Zone);
        Assert.Empty(_stores.DnsRecords);
        var removed = Assert.Single(_stores.Events, e => e.Type == AuditEventTypes.DnsRecordRemoved);
        Assert.Contains("_acme-challenge." + hostname, removed.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_issuance_is_not_resumed_and_a_CSR_for_another_key_starts_afresh()
    {
        var device = await CreateDeviceAsync();
        var hostname = device.DeviceId + "." + BaseDomain;
        _issuer.BeforeIssue = request => request.Journal!.SaveReferenceAsync("https://ca.example/order/" + Guid.NewGuid(), default); // as an ACME order
        _issuer.FailNext = new CertificateIssuanceException("The CA refused.");
        Assert.Equal(ProvisioningOutcome.Failed, (await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, null))).Outcome);
        Assert.Null(await _stores.FindPendingAsync(device.DeviceId, default));

        _issuer.FailNext = new CertificateAuthorityUnavailableException("Down.");
        var firstCsr = Csr(hostname, out var firstKey);
        using var firstKeyDisposal = firstKey;
        Assert.Equal(ProvisioningOutcome.Unavailable, (await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, firstCsr))).Outcome);
        Assert.NotNull(await _stores.FindPendingAsync(device.DeviceId, default));

        var otherCsr = Csr(hostname, out var otherKey);
        using var otherKeyDisposal = otherKey;
        var result = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, null, otherCsr));

        Assert.Equal(ProvisioningOutcome.Issued, result.Outcome);
        Assert.Null(_issuer.Requests.Last().Journal!.ResumeFrom);
        using var certificate = X509Certificate2.CreateFromPem(result.Certificate!.CertificatePem);
        Assert.Equal(otherKey.ExportSubjectPublicKeyInfo(), certificate.PublicKey.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public async Task A_certificate_signed_but_not_stored_is_never_handed_out_and_the_retry_stores_one_for_the_same_key()
    {
        var device = await CreateDeviceAsync();
        _issuer.BeforeIssue = request => request.Journal!.ResumeFrom is null ? request.Journal.SaveReferenceAsync("https://ca.example/order/1", default) : Task.CompletedTask; // as an ACME order
        _stores.FailNextCertificateAdd = true;

        var failed = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret));

        Assert.Equal(ProvisioningOutcome.Unavailable, failed.Outcome);
        Assert.Null(failed.Certificate);
        Assert.Empty(await _stores.ListByDeviceAsync(device.DeviceId, default));
        var pending = await _stores.FindPendingAsync(device.DeviceId, default);
        Assert.NotNull(pending);

        var result = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret));

        Assert.Equal(ProvisioningOutcome.Issued, result.Outcome);
        Assert.Single(await _stores.ListByDeviceAsync(device.DeviceId, default));
        Assert.Equal(pending.CertificateSigningRequest, _issuer.Requests.Last().CertificateSigningRequest.ToArray());
        using var certificate = X509Certificate2.CreateFromPem(result.Certificate!.CertificatePem);
        Assert.Equal(pending.PublicKey, certificate.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Null(await _stores.FindPendingAsync(device.DeviceId, default));
    }

    [Fact]
    public async Task An_issuer_that_journals_nothing_costs_no_journal_write_and_a_failed_store_hands_nothing_out()
    {
        // The private CA's case: it signs in memory, so nothing outside the process is lost on a crash.
        var device = await CreateDeviceAsync();
        _stores.FailNextCertificateAdd = true;

        var failed = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret));

        Assert.Equal(ProvisioningOutcome.Unavailable, failed.Outcome);
        Assert.Null(failed.Certificate);
        Assert.Null(await _stores.FindPendingAsync(device.DeviceId, default));
        Assert.Empty(await _stores.ListByDeviceAsync(device.DeviceId, default));
        Assert.Equal(ProvisioningOutcome.Issued, (await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret))).Outcome);
        Assert.Single(await _stores.ListByDeviceAsync(device.DeviceId, default));
        Assert.Null(await _stores.FindPendingAsync(device.DeviceId, default));
    }

    [Fact]
    public async Task The_DNS_janitor_removes_records_whose_issuance_is_gone_and_keeps_those_of_a_live_one()
    {
        var gone = await CreateDeviceAsync();
        var live = await CreateDeviceAsync();
        foreach (var (deviceId, holder) in new[] { (gone.DeviceId, "crashed#1"), (live.DeviceId, "running#1") })
        {
            var record = await _dns.CreateTxtRecordAsync("_acme-challenge." + deviceId + "." + BaseDomain, "v-" + deviceId, default);
            await _stores.AddDnsRecordAsync(new DnsRecordJournalEntry { Id = Guid.NewGuid(), DeviceId = deviceId, Holder = holder, Name = record.Name, Value = record.Value, ProviderId = record.ProviderId, CreatedAt = _time.GetUtcNow() }, default);
        }

        _stores.HoldLease(gone.DeviceId, TimeSpan.FromSeconds(30), "crashed#1");
        _stores.HoldLease(live.DeviceId, TimeSpan.FromMinutes(5), "running#1");
        _time.Advance(TimeSpan.FromSeconds(31)); // the crashed holder stopped renewing: its lease expired
        var janitor = _services.GetServices<IProvisioningJob>().Single(j => j.Name == "dns-janitor");

        _dns.FailDeletes = true;
        await janitor.RunAsync(_services.CreateScope().ServiceProvider, TestContext.Current.CancellationToken);
        Assert.Equal(2, _stores.DnsRecords.Count); // the provider failed: kept for the next pass

        _dns.FailDeletes = false;
        await janitor.RunAsync(_services.CreateScope().ServiceProvider, TestContext.Current.CancellationToken);

        var kept = Assert.Single(_stores.DnsRecords);
        Assert.Equal(live.DeviceId, kept.DeviceId);
        Assert.Equal([("_acme-challenge." + live.DeviceId + "." + BaseDomain, "v-" + live.DeviceId)], _dns.Zone);
        var removed = Assert.Single(_stores.Events, e => e.Type == AuditEventTypes.DnsRecordRemoved);
        Assert.Equal(gone.DeviceId, removed.DeviceId);
        Assert.Contains("crashed#1", removed.Details, StringComparison.Ordinal);
        Assert.Null(_stores.LeaseHolder(gone.DeviceId)); // the janitor's own lease was handed back
    }

    [Fact]
    public async Task The_expiry_sweep_warns_once_for_each_certificate_that_nears_its_end_unrenewed()
    {
        var quiet = await CreateDeviceAsync();
        var renewed = await CreateDeviceAsync();
        await RegisterAsync(new ProvisioningRequest(quiet.DeviceId, quiet.Secret));
        await RegisterAsync(new ProvisioningRequest(renewed.DeviceId, renewed.Secret));
        var sweep = _services.GetServices<IProvisioningJob>().Single(j => j.Name == "expiry-sweep");
        var meters = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var warnings = new MetricCollector<long>(meters, "Sndctl.Provisioning.Core", "sndctl.provisioning.certificates.expiry_warnings");
        await sweep.RunAsync(_services.CreateScope().ServiceProvider, TestContext.Current.CancellationToken); // first run: from now on

        // 90-day certificates: 65 days on (past renewAfter, day 60 plus up to 5 % jitter), one device renews
        // (a new certificate); 83 days on, the other is 7 days from its end without one.
        _time.Advance(TimeSpan.FromDays(65) + TimeSpan.FromMinutes(1));
        Assert.Equal(ProvisioningOutcome.Issued, (await RenewAsync(new ProvisioningRequest(renewed.DeviceId, renewed.Secret, renewed.Hostname))).Outcome);
        await sweep.RunAsync(_services.CreateScope().ServiceProvider, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(_stores.Events, e => e.Type == AuditEventTypes.CertificateExpiring);

        _time.Advance(TimeSpan.FromDays(18) + TimeSpan.FromHours(1));
        await sweep.RunAsync(_services.CreateScope().ServiceProvider, TestContext.Current.CancellationToken);
        await sweep.RunAsync(_services.CreateScope().ServiceProvider, TestContext.Current.CancellationToken); // nothing twice

        var warned = Assert.Single(_stores.Events, e => e.Type == AuditEventTypes.CertificateExpiring);
        Assert.Equal(quiet.DeviceId, warned.DeviceId);
        Assert.Equal(1, warnings.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task Addresses_sent_with_register_and_renew_are_stored_published_and_echoed_and_a_new_set_replaces_the_old()
    {
        var device = await CreateDeviceAsync();

        var registered = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, Addresses: ["192.168.1.23", "fd00::23", "192.168.1.23"]));
        Assert.Equal(ProvisioningOutcome.Issued, registered.Outcome);
        Assert.Equal(["192.168.1.23", "fd00::23"], registered.Certificate!.Addresses!.Select(a => a.ToString()));
        Assert.Equal(["192.168.1.23", "fd00::23"], _dns.AddressesAt(device.Hostname));

        var renewed = await RenewAsync(new ProvisioningRequest(device.DeviceId, device.Secret, device.Hostname, Addresses: ["10.0.0.7"]));
        Assert.Equal(ProvisioningOutcome.Current, renewed.Outcome);
        Assert.Equal(["10.0.0.7"], _dns.AddressesAt(device.Hostname));
        Assert.False((await StoredAsync(device.DeviceId))!.AddressRecordsPending);

        // No addresses in the call: the stored set stays (and is echoed).
        var silent = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret));
        Assert.Equal(["10.0.0.7"], silent.Certificate!.Addresses!.Select(a => a.ToString()));
        Assert.Equal(1, _issuer.Issued);
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("127.0.0.1")]
    [InlineData("169.254.1.1")]
    [InlineData("fe80::1")]
    [InlineData("224.0.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("::ffff:192.168.1.1")]
    [InlineData("192.168.1")]
    [InlineData("0x0a.0.0.1")]
    [InlineData("fd00::1%eth0")]
    [InlineData("not an address")]
    public async Task A_bad_address_is_refused_and_changes_nothing(string bad)
    {
        var device = await CreateDeviceAsync();
        await Scoped<IDeviceProvisioningService>().UpdateAddressesAsync(device.DeviceId, device.Secret, ["192.168.1.2"], null, default);
        var calls = _dns.AddressCalls;

        var register = await RegisterAsync(new ProvisioningRequest(device.DeviceId, device.Secret, Addresses: ["10.0.0.1", bad]));
        var update = await Scoped<IDeviceProvisioningService>().UpdateAddressesAsync(device.DeviceId, device.Secret, [bad], null, default);

        Assert.Equal(ProvisioningOutcome.Invalid, register.Outcome);
        Assert.Equal(ProvisioningOutcome.Invalid, update.Outcome);
        Assert.Contains("addresses", update.Detail, StringComparison.Ordinal);
        Assert.Equal(0, _issuer.Issued);
        Assert.Equal(calls, _dns.AddressCalls);
        Assert.Equal(["192.168.1.2"], _dns.AddressesAt(device.Hostname));
        Assert.Equal(["192.168.1.2"], (await StoredAsync(device.DeviceId))!.Addresses.Select(a => a.ToString()));
    }

    [Fact]
    public async Task More_than_four_addresses_are_refused_and_public_ones_only_when_allowed()
    {
        var device = await CreateDeviceAsync();

        var five = await Scoped<IDeviceProvisioningService>().UpdateAddressesAsync(device.DeviceId, device.Secret, ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"], null, default);
        Assert.Equal(ProvisioningOutcome.Invalid, five.Outcome);

        Assert.True(DeviceAddresses.TryParse(["8.8.8.8", "2606:4700::1111"], allowPublic: true, out var publicSet, out _));
        Assert.Equal(["8.8.8.8", "2606:4700::1111"], publicSet.Select(a => a.ToString()));
        Assert.False(DeviceAddresses.TryParse(["127.0.0.1"], allowPublic: true, out _, out var loopback));
        Assert.Contains("loopback", loopback, StringComparison.Ordinal);
        Assert.True(DeviceAddresses.TryParse(["172.31.255.255", "172.16.0.1", "FD12:3456::1"], allowPublic: false, out var sorted, out _));
        Assert.Equal(["172.16.0.1", "172.31.255.255", "fd12:3456::1"], sorted.Select(a => a.ToString()));
        Assert.False(DeviceAddresses.TryParse(["172.32.0.1"], allowPublic: false, out _, out _));
    }

    [Fact]
    public async Task Address_updates_need_the_secret_count_only_changes_and_are_limited_per_device()
    {
        var device = await CreateDeviceAsync();
        var other = await CreateDeviceAsync();
        var service = Scoped<IDeviceProvisioningService>();

        Assert.Equal(ProvisioningOutcome.Unauthorized, (await service.UpdateAddressesAsync(device.DeviceId, "wrong", ["10.0.0.1"], null, default)).Outcome);
        Assert.Empty(_dns.AddressesAt(device.Hostname));

        // The default allows 12 changes an hour; sending the same set again is not a change.
        for (var i = 1; i <= 12; i++)
        {
            var changed = await service.UpdateAddressesAsync(device.DeviceId, device.Secret, [$"10.0.0.{i}"], null, default);
            Assert.Equal(ProvisioningOutcome.Current, changed.Outcome);
            Assert.Equal(ProvisioningOutcome.Current, (await service.UpdateAddressesAsync(device.DeviceId, device.Secret, [$"10.0.0.{i}"], null, default)).Outcome);
        }

        var limited = await service.UpdateAddressesAsync(device.DeviceId, device.Secret, ["10.0.0.99"], null, default);
        Assert.Equal(ProvisioningOutcome.AddressChangesLimited, limited.Outcome);
        Assert.Equal(TimeSpan.FromMinutes(5), limited.RetryAfter); // one change comes back every hour / 12
        Assert.Equal(["10.0.0.12"], _dns.AddressesAt(device.Hostname));
        Assert.Equal(["10.0.0.12"], (await StoredAsync(device.DeviceId))!.Addresses.Select(a => a.ToString()));
        Assert.Equal(ProvisioningOutcome.Current, (await service.UpdateAddressesAsync(other.DeviceId, other.Secret, ["10.0.0.99"], null, default)).Outcome);

        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(ProvisioningOutcome.Current, (await service.UpdateAddressesAsync(device.DeviceId, device.Secret, ["10.0.0.99"], null, default)).Outcome);
    }

    [Fact]
    public async Task A_change_written_meanwhile_counts_against_the_allowance_and_a_change_refused_then_leaves_the_row_and_the_zone_as_the_row_says()
    {
        var device = await CreateDeviceAsync();
        for (var i = 1; i <= 11; i++)
        {
            Assert.Equal(ProvisioningOutcome.Current, (await Scoped<IDeviceProvisioningService>().UpdateAddressesAsync(device.DeviceId, device.Secret, [$"10.0.0.{i}"], null, default)).Outcome);
        }

        // The twelfth change is published, and before its row write another call (another instance) writes the twelfth.
        _dns.BeforeNextAddresses = async () => Assert.Equal(
            ProvisioningOutcome.Current,
            (await Scoped<IDeviceProvisioningService>().UpdateAddressesAsync(device.DeviceId, device.Secret, ["10.0.1.1"], null, default)).Outcome);
        var late = await Scoped<IDeviceProvisioningService>().UpdateAddressesAsync(device.DeviceId, device.Secret, ["10.0.2.2"], null, default);

        Assert.Equal(ProvisioningOutcome.AddressChangesLimited, late.Outcome);
        Assert.Equal(TimeSpan.FromMinutes(5), late.RetryAfter);
        var stored = (await StoredAsync(device.DeviceId))!;
        Assert.Equal(["10.0.1.1"], stored.Addresses.Select(a => a.ToString()));
        Assert.False(stored.AddressRecordsPending);
        Assert.Equal(["10.0.1.1"], _dns.AddressesAt(device.Hostname));
    }

    [Fact]
    public async Task Disabling_removes_the_address_records_enabling_publishes_them_again_and_deleting_removes_them()
    {
        var device = await CreateDeviceAsync();
        await Scoped<IDeviceProvisioningService>().UpdateAddressesAsync(device.DeviceId, device.Secret, ["192.168.7.7"], null, default);
        var admin = Scoped<IDeviceAdminService>();

        await admin.SetEnabledAsync(device.DeviceId, false, "test", default);
        Assert.Empty(_dns.AddressesAt(device.Hostname));
        Assert.Equal(ProvisioningOutcome.Disabled, (await Scoped<IDeviceProvisioningService>().UpdateAddressesAsync(device.DeviceId, device.Secret, ["192.168.7.8"], null, default)).Outcome);

        await admin.SetEnabledAsync(device.DeviceId, true, "test", default);
        Assert.Equal(["192.168.7.7"], _dns.AddressesAt(device.Hostname));

        // A DNS API that is down keeps the device (503 at the API) rather than leave its name resolving.
        _dns.FailAddresses = true;
        await Assert.ThrowsAsync<CertificateAuthorityUnavailableException>(() => admin.DeleteDeviceAsync(device.DeviceId, "test", default));
        Assert.NotNull(await StoredAsync(device.DeviceId));
        _dns.FailAddresses = false;
        Assert.True(await admin.DeleteDeviceAsync(device.DeviceId, "test", default));
        Assert.Empty(_dns.AddressesAt(device.Hostname));
    }

    [Fact]
    public async Task A_publication_that_fails_is_kept_pending_and_the_job_publishes_it_later()
    {
        var device = await CreateDeviceAsync();
        _dns.FailAddresses = true;

        var stored = await Scoped<IDeviceProvisioningService>().UpdateAddressesAsync(device.DeviceId, device.Secret, ["10.1.2.3"], null, default);
        Assert.Equal(ProvisioningOutcome.Current, stored.Outcome);
        Assert.Empty(_dns.AddressesAt(device.Hostname));
        Assert.True((await StoredAsync(device.DeviceId))!.AddressRecordsPending);

        var job = _services.GetServices<IProvisioningJob>().Single(j => j is Internal.AddressRecordSyncJob);
        await job.RunAsync(_services.CreateScope().ServiceProvider, TestContext.Current.CancellationToken);
        Assert.True((await StoredAsync(device.DeviceId))!.AddressRecordsPending);

        _dns.FailAddresses = false;
        await job.RunAsync(_services.CreateScope().ServiceProvider, TestContext.Current.CancellationToken);
        Assert.Equal(["10.1.2.3"], _dns.AddressesAt(device.Hostname));
        Assert.False((await StoredAsync(device.DeviceId))!.AddressRecordsPending);
    }

    [Fact]
    public async Task Certificates_of_active_devices_are_renewed_ahead_of_them_and_idle_devices_are_left_alone()
    {
        var active = await CreateDeviceAsync();
        var idle = await CreateDeviceAsync();
        var first = (await RegisterAsync(new ProvisioningRequest(active.DeviceId, active.Secret))).Certificate!;
        await RegisterAsync(new ProvisioningRequest(idle.DeviceId, idle.Secret));

        // Day 60: the active device calls (seen); the idle one never again. Day 85: both are in their renewal window.
        _time.Advance(TimeSpan.FromDays(60));
        Assert.Equal(ProvisioningOutcome.Current, (await RegisterAsync(new ProvisioningRequest(active.DeviceId, active.Secret))).Outcome);
        _time.Advance(TimeSpan.FromDays(25));
        Assert.True(_time.GetUtcNow() >= first.RenewAfter);

        var job = _services.GetServices<IProvisioningJob>().Single(j => j.Name == "renewals");
        await job.RunAsync(_services.CreateScope().ServiceProvider, TestContext.Current.CancellationToken);
        Assert.Equal(3, _issuer.Issued); // two registrations, one renewal: the idle device (seen 85 days ago) is not renewed

        // The active device's next call is served the renewed certificate, with no issuance at the call.
        var next = await RegisterAsync(new ProvisioningRequest(active.DeviceId, active.Secret));
        Assert.Equal(ProvisioningOutcome.Current, next.Outcome);
        Assert.NotEqual(first.CertificatePem, next.Certificate!.CertificatePem);
        Assert.Equal(3, _issuer.Issued);
    }

    private IHostedService Drain() => _services.GetServices<IHostedService>().Single(s => s is Internal.IssuanceDrain);

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        Assert.True(condition());
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(10);
        return true;
    }

    private static string Csr(string hostname, out ECDsa key)
    {
        key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + hostname, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostname);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSigningRequestPem();
    }

    private Task<Device?> StoredAsync(string deviceId) => ((IDeviceStore)_stores).FindAsync(deviceId, default);

    private Task<CreatedDevice> CreateDeviceAsync() => Scoped<IDeviceAdminService>().CreateDeviceAsync(null, null, "test", TestContext.Current.CancellationToken);

    private Task<ProvisioningResult> RegisterAsync(ProvisioningRequest request) => Scoped<IDeviceProvisioningService>().RegisterAsync(request, TestContext.Current.CancellationToken);

    private Task<ProvisioningResult> RenewAsync(ProvisioningRequest request) => Scoped<IDeviceProvisioningService>().RenewAsync(request, TestContext.Current.CancellationToken);

    /// <summary>A service from a fresh scope, as one HTTP request gets (the scope is left to the provider: scoped services here hold no resources).</summary>
    private T Scoped<T>()
        where T : notnull => _services.CreateScope().ServiceProvider.GetRequiredService<T>();
}
