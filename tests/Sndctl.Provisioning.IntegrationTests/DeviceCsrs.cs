using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sndctl.Provisioning.IntegrationTests;

/// <summary>Device CSRs as devices must send them: the hostname in the subjectAltName (and as the CN).</summary>
internal static class DeviceCsrs
{
    public static CertificateRequest For(string hostname, ECDsa key)
    {
        var request = new CertificateRequest("CN=" + hostname, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostname);
        request.CertificateExtensions.Add(names.Build());
        return request;
    }
}
