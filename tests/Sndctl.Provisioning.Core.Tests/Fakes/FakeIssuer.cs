using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sndctl.Provisioning.Core.Tests.Fakes;

/// <summary>
/// An issuer that signs each CSR with a throw-away CA (real certificates for the requested key and
/// hostname), counts its calls, and can be made to fail or to wait at a gate.
/// </summary>
internal sealed class FakeIssuer(TimeProvider time) : ICertificateIssuer, IDisposable
{
    private readonly X509Certificate2 _ca = CreateCa();
    private int _issued;
    private Exception? _failNext;

    public string Name => "Fake";

    /// <summary>Thrown by the next issuance (then cleared).</summary>
    public Exception? FailNext { get => Volatile.Read(ref _failNext); set => Volatile.Write(ref _failNext, value); }

    /// <summary>When set, issuances wait for it before signing.</summary>
    public TaskCompletionSource? Gate { get; set; }

    public int Issued => Volatile.Read(ref _issued);

    /// <summary>Runs first in each issuance (to write to its journal, or to fail after writing).</summary>
    public Func<CertificateIssueRequest, Task>? BeforeIssue { get; set; }

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<CertificateIssueRequest> Requests { get; } = new();

    public List<string> Revoked { get; } = [];

    public async Task<IssuedCertificate> IssueAsync(CertificateIssueRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        if (BeforeIssue is { } before)
        {
            await before(request);
        }

        if (Interlocked.Exchange(ref _failNext, null) is { } failure)
        {
            throw failure;
        }

        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        Interlocked.Increment(ref _issued);
        var csr = CertificateRequest.LoadSigningRequest(request.CertificateSigningRequest.Span, HashAlgorithmName.SHA256, out _);
        var leaf = new CertificateRequest(new X500DistinguishedName("CN=" + request.Hostname), csr.PublicKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(request.Hostname);
        leaf.CertificateExtensions.Add(names.Build());
        var now = time.GetUtcNow();
        using var certificate = leaf.Create(_ca, now.AddMinutes(-1), now.AddDays(90), RandomNumberGenerator.GetBytes(12));
        return new IssuedCertificate(certificate.ExportCertificatePem() + "\n" + _ca.ExportCertificatePem());
    }

    public Task RevokeAsync(DeviceCertificate certificate, CancellationToken cancellationToken)
    {
        lock (Revoked)
        {
            Revoked.Add(certificate.SerialNumber);
        }

        return Task.CompletedTask;
    }

    public void Dispose() => _ca.Dispose();

    private static X509Certificate2 CreateCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Fake CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddYears(-1), DateTimeOffset.UtcNow.AddYears(10));
    }
}
