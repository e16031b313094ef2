using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sndctl.Provisioning.Core.Internal;
using Sndctl.Provisioning.Core.Tests.Fakes;

namespace Sndctl.Provisioning.Core.Tests;

/// <summary>
/// The issuance pipeline's named steps, each alone over in-memory stores and a fake issuer: what
/// <see cref="IssuanceDecider"/> decides, what <see cref="IssuanceAttempt"/> does with a refusal, what
/// <see cref="IssuanceStorage"/> stores, what <see cref="IssuanceFailures"/> makes of a failure.
/// </summary>
public sealed class IssuancePipelineTests : IAsyncDisposable
{
    private const string Hostname = "dev1.devices.example.com";
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly InMemoryStores _stores;
    private readonly FakeIssuer _issuer;
    private readonly ServiceProvider _services;
    private readonly IDataProtector _protector = new EphemeralDataProtectionProvider().CreateProtector("test");
    private readonly ProvisioningMetrics _metrics;

    public IssuancePipelineTests()
    {
        _stores = new InMemoryStores(_time);
        _issuer = new FakeIssuer(_time);
        var services = new ServiceCollection().AddLogging().AddMetrics();
        foreach (var store in new[] { typeof(IDeviceStore), typeof(ICertificateStore), typeof(IAuditEventStore), typeof(IIssuanceJournalStore), typeof(IRateLimitStore) })
        {
            services.AddSingleton(store, _stores);
        }

        _services = services.BuildServiceProvider();
        _metrics = new ProvisioningMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), _time);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        _issuer.Dispose();
    }

    [Fact]
    public async Task The_decider_issues_with_a_server_made_key_encrypted_at_rest()
    {
        await DeviceAsync();

        var decision = Assert.IsType<IssuanceDecision.Issue>(await Decider().DecideAsync(Scope()));

        Assert.False(decision.Resuming);
        Assert.NotNull(decision.PrivateKeyPem);
        Assert.Equal(decision.PrivateKeyPem, _protector.Unprotect(decision.Pending.ProtectedPrivateKey!));
        Assert.DoesNotContain("PRIVATE KEY", decision.Pending.ProtectedPrivateKey!, StringComparison.Ordinal);
        Assert.False(decision.Pending.Early);
    }

    [Fact]
    public async Task The_decider_serves_a_certificate_stored_meanwhile_and_limits_early_reissues()
    {
        var device = await DeviceAsync();
        var stored = await IssueAsync(device);

        Assert.Equal(stored.Id, Assert.IsType<IssuanceDecision.Serve>(await Decider().DecideAsync(Scope())).Certificate.Id);

        // Another key (the device's own CSR) while the certificate is good: early; the third within the window is refused.
        var options = new DeviceProvisioningOptions { BaseDomain = "devices.example.com", DeviceIssuanceLimit = 2 };
        for (var i = 0; i < 2; i++)
        {
            var early = Assert.IsType<IssuanceDecision.Issue>(await Decider().DecideAsync(Scope(options, NewCsr())));
            Assert.True(early.Pending.Early);
            await StoreAsync(early);
        }

        var limited = Assert.IsType<IssuanceDecision.Limit>(await Decider().DecideAsync(Scope(options, NewCsr())));
        Assert.Equal(ProvisioningOutcome.IssuanceLimited, limited.Outcome.Refusal);
        Assert.InRange(limited.Outcome.RetryAfter!.Value, TimeSpan.FromDays(6.9), TimeSpan.FromDays(7));
    }

    [Fact]
    public async Task The_decider_resumes_the_unfinished_issuance_it_would_begin_and_drops_another()
    {
        await DeviceAsync();
        var first = Assert.IsType<IssuanceDecision.Issue>(await Decider().DecideAsync(Scope()));
        await _stores.SavePendingAsync(first.Pending, CancellationToken.None);

        var resumed = Assert.IsType<IssuanceDecision.Issue>(await Decider().DecideAsync(Scope()));
        Assert.True(resumed.Resuming);
        Assert.Equal(first.PrivateKeyPem, resumed.PrivateKeyPem);

        // Asked with the device's own key instead: the server-key issuance is not that one; it is dropped.
        var other = Assert.IsType<IssuanceDecision.Issue>(await Decider().DecideAsync(Scope(csr: NewCsr())));
        Assert.False(other.Resuming);
        Assert.Null(await _stores.FindPendingAsync("dev1", CancellationToken.None));
    }

    [Fact]
    public async Task A_refusal_by_the_CA_is_counted_and_ends_the_journal_and_the_decider_then_limits()
    {
        await DeviceAsync();
        var options = new DeviceProvisioningOptions { BaseDomain = "devices.example.com", FailedIssuanceLimit = 2 };
        for (var i = 0; i < 2; i++)
        {
            var issue = Assert.IsType<IssuanceDecision.Issue>(await Decider().DecideAsync(Scope(options)));
            _issuer.BeforeIssue = request => request.Journal!.SaveReferenceAsync("https://ca.test/order/" + i, CancellationToken.None);
            _issuer.FailNext = new CertificateIssuanceException("badCSR");
            await Assert.ThrowsAsync<CertificateIssuanceException>(() => new IssuanceAttempt(_time, "holder").RunAsync(Scope(options), issue));
            Assert.Null(await _stores.FindPendingAsync("dev1", CancellationToken.None)); // refused for good: nothing to resume
        }

        var limited = Assert.IsType<IssuanceDecision.Limit>(await Decider().DecideAsync(Scope(options)));
        Assert.Contains("refused", limited.Outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Storage_makes_the_certificate_the_device_s_and_records_the_event()
    {
        await DeviceAsync();
        var issue = Assert.IsType<IssuanceDecision.Issue>(await Decider().DecideAsync(Scope()));

        var outcome = await StoreAsync(issue);

        var device = await Devices.FindAsync("dev1", CancellationToken.None);
        Assert.Equal(outcome.Certificate!.Id, device!.CurrentCertificateId);
        Assert.Equal(DeviceStatus.Active, device.Status);
        Assert.Equal(issue.PrivateKeyPem, outcome.PrivateKeyPem);
        Assert.Contains(_stores.Events, e => e.Type == AuditEventTypes.CertificateIssued && e.DeviceId == "dev1");
    }

    [Fact]
    public async Task Storage_never_hands_a_certificate_to_a_device_disabled_meanwhile_and_revokes_it()
    {
        var device = await DeviceAsync();
        var issue = Assert.IsType<IssuanceDecision.Issue>(await Decider().DecideAsync(Scope()));
        device.Status = DeviceStatus.Disabled;
        await Devices.UpdateAsync(device, CancellationToken.None);
        var fresh = await Devices.FindAsync("dev1", CancellationToken.None);

        var outcome = await StoreAsync(issue with { Device = fresh! });

        Assert.Equal(ProvisioningOutcome.Disabled, outcome.Refusal);
        Assert.Null(outcome.Certificate);
        Assert.Single(_issuer.Revoked);
        Assert.Null((await Devices.FindAsync("dev1", CancellationToken.None))!.CurrentCertificateId);
    }

    [Fact]
    public async Task Failures_are_recorded_for_the_operator_and_a_cancellation_says_what_caused_it()
    {
        await DeviceAsync();
        var failures = new IssuanceFailures(_time, _metrics, NullLogger.Instance);
        using var collector = new MetricCollector<long>(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), ProvisioningDiagnostics.Name, "sndctl.provisioning.certificates.failed");

        Assert.Null(await failures.HandleAsync(Scope(), new CertificateIssuanceException("badCSR"), null, leaseLost: false, shuttingDown: false));
        var lost = await failures.HandleAsync(Scope(), new OperationCanceledException(), null, leaseLost: true, shuttingDown: false);
        var slow = await failures.HandleAsync(Scope(), new OperationCanceledException(), null, leaseLost: false, shuttingDown: false);
        var stopping = await failures.HandleAsync(Scope(), new OperationCanceledException(), null, leaseLost: false, shuttingDown: true);
        var queued = await failures.HandleAsync(Scope(), new CertificateIssuanceQueuedException("queued", 1, _time.GetUtcNow(), TimeSpan.FromHours(1)), null, false, false);

        Assert.Contains("lease was lost", Assert.IsType<CertificateAuthorityUnavailableException>(lost).Message, StringComparison.Ordinal);
        Assert.Contains("did not finish", Assert.IsType<CertificateAuthorityUnavailableException>(slow).Message, StringComparison.Ordinal);
        Assert.Null(stopping);
        Assert.Null(queued); // waiting for the CA's budget is no failure: not counted, not recorded
        Assert.Equal(
            ["badCSR", "The issuance lease was lost (this instance could not renew it in time and another took it); the issuance stopped.", $"Issuance did not finish within {Scope().Options.IssuanceTimeout.TotalSeconds:0} s.", "Timed out."],
            _stores.Events.Where(e => e.Type == AuditEventTypes.CertificateFailed).Select(e => e.Details));
        Assert.Equal(4, collector.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    private IDeviceStore Devices => _stores;

    private IssuanceDecider Decider() => new(_time, _protector, _metrics, NullLogger.Instance);

    private IssuanceScope Scope(DeviceProvisioningOptions? options = null, DeviceCsr? csr = null)
        => new("dev1", Hostname, csr, _services, _issuer, options ?? new DeviceProvisioningOptions { BaseDomain = "devices.example.com" }, CancellationToken.None);

    private async Task<Device> DeviceAsync()
    {
        var device = new Device { DeviceId = "dev1", Hostname = Hostname, SecretHash = new byte[32], Status = DeviceStatus.Pending, CreatedAt = _time.GetUtcNow() };
        await Devices.CreateAsync([device], CancellationToken.None);
        return (await Devices.FindAsync("dev1", CancellationToken.None))!;
    }

    private async Task<DeviceCertificate> IssueAsync(Device device)
    {
        _ = device;
        var issue = Assert.IsType<IssuanceDecision.Issue>(await Decider().DecideAsync(Scope()));
        return (await StoreAsync(issue)).Certificate!;
    }

    private async Task<IssuanceOutcome> StoreAsync(IssuanceDecision.Issue issue)
    {
        var (issued, journalled) = await new IssuanceAttempt(_time, "holder").RunAsync(Scope(), issue);
        var fresh = await Devices.FindAsync("dev1", CancellationToken.None);
        return await new IssuanceStorage(_time, new Random(1), NullLogger.Instance).StoreAsync(Scope(), issue with { Device = fresh ?? issue.Device }, issued, journalled);
    }

    private static DeviceCsr NewCsr()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=" + Hostname, key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        san.AddDnsName(Hostname);
        request.CertificateExtensions.Add(san.Build());
        return new DeviceCsr(request.CreateSigningRequest(), key.ExportSubjectPublicKeyInfo());
    }
}
