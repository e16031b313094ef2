using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using Sndctl.Provisioning.Testing;

namespace Sndctl.Provisioning.Acme.Tests;

/// <summary>The ACME client on its own, against a real Pebble with challtestsrv as its DNS.</summary>
public sealed class AcmeClientPebbleTests
{
    private readonly AcmeLab _lab = AcmeLab.Require();

    [Fact]
    public async Task Creates_an_account_once_and_finds_it_again()
    {
        using var http = _lab.CreateHttpClient();
        using var key = AcmeAccountKey.Create();
        var client = new AcmeClient(http, _lab.Directory, key);

        Assert.Null(await client.FindAccountAsync(Ct));
        var created = await client.CreateAccountAsync(new AcmeNewAccountRequest { TermsOfServiceAgreed = true, Contact = ["mailto:ops@example.test"] }, Ct);
        Assert.True(created.Created);
        Assert.Equal("valid", created.Status);

        var again = await client.CreateAccountAsync(new AcmeNewAccountRequest { TermsOfServiceAgreed = true }, Ct);
        Assert.False(again.Created);
        Assert.Equal(created.Location, again.Location);

        var other = new AcmeClient(http, _lab.Directory, key);
        var found = await other.FindAccountAsync(Ct);
        Assert.Equal(created.Location, found!.Location);
        Assert.Equal(created.Location, other.AccountUrl);
    }

    [Theory]
    [InlineData(AcmeKeyAlgorithm.ES256)]
    [InlineData(AcmeKeyAlgorithm.ES384)]
    [InlineData(AcmeKeyAlgorithm.RS256)]
    public async Task Issues_a_certificate_over_dns01_that_chains_to_pebbles_root(AcmeKeyAlgorithm algorithm)
    {
        using var http = _lab.CreateHttpClient();
        using var key = AcmeAccountKey.Create(algorithm);
        var client = new AcmeClient(http, _lab.Directory, key);
        await client.CreateAccountAsync(new AcmeNewAccountRequest { TermsOfServiceAgreed = true }, Ct);

        var hostname = $"{Guid.NewGuid():N}"[..12] + ".client.example.test";
        using var certificateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = await IssueAsync(client, hostname, certificateKey);

        var (root, _) = await _lab.GetIssuingCertificatesAsync();
        Assert.Equal(X509ChainStatusFlags.NoError, AcmeLab.VerifyChain(pem, root));
        using var leaf = X509Certificate2.CreateFromPem(pem);
        Assert.True(leaf.MatchesHostname(hostname, allowWildcards: false, allowCommonName: false));
        Assert.Equal(certificateKey.ExportSubjectPublicKeyInfo(), leaf.PublicKey.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public async Task Revokes_a_certificate_and_reports_a_second_revocation_as_alreadyRevoked()
    {
        using var http = _lab.CreateHttpClient();
        using var key = AcmeAccountKey.Create();
        var client = new AcmeClient(http, _lab.Directory, key);
        await client.CreateAccountAsync(new AcmeNewAccountRequest { TermsOfServiceAgreed = true }, Ct);
        using var certificateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = await IssueAsync(client, $"{Guid.NewGuid():N}"[..12] + ".client.example.test", certificateKey);
        using var leaf = X509Certificate2.CreateFromPem(pem);

        Assert.Equal("Valid", await _lab.GetCertificateStatusAsync(leaf.SerialNumber));
        await client.RevokeCertificateAsync(leaf.RawDataMemory, reason: 4, Ct);
        Assert.Equal("Revoked", await _lab.GetCertificateStatusAsync(leaf.SerialNumber));

        var again = await Assert.ThrowsAnyAsync<AcmeProblemException>(() => client.RevokeCertificateAsync(leaf.RawDataMemory, null, Ct));
        Assert.Equal(AcmeErrorTypes.AlreadyRevoked, again.ProblemType);
    }

    [Fact]
    public async Task Rolls_the_account_over_to_a_new_key()
    {
        using var http = _lab.CreateHttpClient();
        using var oldKey = AcmeAccountKey.Create();
        using var newKey = AcmeAccountKey.Create(AcmeKeyAlgorithm.ES384);
        var client = new AcmeClient(http, _lab.Directory, oldKey);
        var account = await client.CreateAccountAsync(new AcmeNewAccountRequest { TermsOfServiceAgreed = true }, Ct);

        await client.ChangeAccountKeyAsync(newKey, Ct);

        Assert.Same(newKey, client.AccountKey);
        Assert.Equal(account.Location, (await new AcmeClient(http, _lab.Directory, newKey).FindAccountAsync(Ct))?.Location);
        Assert.Null(await new AcmeClient(http, _lab.Directory, oldKey).FindAccountAsync(Ct));
        using var certificateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.Contains("BEGIN CERTIFICATE", await IssueAsync(client, $"{Guid.NewGuid():N}"[..12] + ".client.example.test", certificateKey));
    }

    [Fact]
    public async Task External_account_binding_is_required_where_the_CA_requires_it_and_accepted_when_right()
    {
        using var http = _lab.CreateHttpClient();
        using var key = AcmeAccountKey.Create();
        var client = new AcmeClient(http, _lab.EabDirectory, key);
        Assert.True((await client.GetDirectoryAsync(Ct)).Meta?.ExternalAccountRequired);

        await Assert.ThrowsAsync<AcmeExternalAccountRequiredException>(
            () => client.CreateAccountAsync(new AcmeNewAccountRequest { TermsOfServiceAgreed = true }, Ct));

        var wrong = new AcmeExternalAccountBinding(_lab.EabKeyId, RandomNumberGenerator.GetBytes(32));
        var refused = await Assert.ThrowsAsync<AcmeUnauthorizedException>(
            () => client.CreateAccountAsync(new AcmeNewAccountRequest { TermsOfServiceAgreed = true, ExternalAccountBinding = wrong }, Ct));
        Assert.Contains("external account binding", refused.Message, StringComparison.OrdinalIgnoreCase);

        var binding = AcmeExternalAccountBinding.FromBase64Url(_lab.EabKeyId, _lab.EabHmacKey);
        var account = await client.CreateAccountAsync(new AcmeNewAccountRequest { TermsOfServiceAgreed = true, ExternalAccountBinding = binding }, Ct);
        Assert.Equal("valid", account.Status);
        Assert.DoesNotContain(_lab.EabHmacKey, binding.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_challenge_without_its_TXT_record_makes_the_authorization_invalid_with_the_CAs_reason()
    {
        using var http = _lab.CreateHttpClient();
        using var key = AcmeAccountKey.Create();
        var client = new AcmeClient(http, _lab.Directory, key);
        await client.CreateAccountAsync(new AcmeNewAccountRequest { TermsOfServiceAgreed = true }, Ct);
        var order = await client.NewOrderAsync(new AcmeOrderRequest { Identifiers = [AcmeIdentifier.Dns($"{Guid.NewGuid():N}"[..12] + ".client.example.test")] }, Ct);
        var authorization = await client.GetAuthorizationAsync(order.Authorizations[0], Ct);
        var challenge = authorization.Challenges.Single(c => c.Type == "dns-01");

        await client.RespondToChallengeAsync(challenge.Url, Ct);
        var failure = await Assert.ThrowsAsync<AcmeValidationException>(() => client.WaitForAuthorizationAsync(authorization.Location, Ct));

        Assert.NotNull(failure.Problem);
        Assert.Contains(authorization.Identifier.Value, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Downloads_the_preferred_alternate_chain_when_the_CA_offers_one()
    {
        using var http = _lab.CreateHttpClient();
        using var key = AcmeAccountKey.Create();
        var client = new AcmeClient(http, _lab.Directory, key);
        await client.CreateAccountAsync(new AcmeNewAccountRequest { TermsOfServiceAgreed = true }, Ct);
        using var certificateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var order = await CompleteOrderAsync(client, $"{Guid.NewGuid():N}"[..12] + ".client.example.test", certificateKey);

        var standard = await client.DownloadCertificateAsync(order.Certificate!, null, Ct);
        Assert.NotEmpty(standard.Alternates); // tests/acme-lab.sh starts Pebble with PEBBLE_ALTERNATE_ROOTS=1.

        var (alternateRoot, _) = await _lab.GetIssuingCertificatesAsync(chain: 1);
        var preferred = await client.DownloadCertificateAsync(order.Certificate!, alternateRoot.GetNameInfo(X509NameType.SimpleName, false), Ct);
        Assert.Equal(X509ChainStatusFlags.NoError, AcmeLab.VerifyChain(preferred.Pem, alternateRoot));
        Assert.NotEqual(X509ChainStatusFlags.NoError, AcmeLab.VerifyChain(standard.Pem, alternateRoot));

        var unknown = await client.DownloadCertificateAsync(order.Certificate!, "No Such Root", Ct);
        Assert.Equal(standard.Pem, unknown.Pem);
    }

    internal static async Task<string> IssueAsync(AcmeClient client, string hostname, ECDsa certificateKey)
    {
        var order = await CompleteOrderAsync(client, hostname, certificateKey);
        return (await client.DownloadCertificateAsync(order.Certificate!, null, Ct)).Pem;
    }

    private static async Task<AcmeOrder> CompleteOrderAsync(AcmeClient client, string hostname, ECDsa certificateKey)
    {
        var lab = AcmeLab.Require();
        var order = await client.NewOrderAsync(new AcmeOrderRequest { Identifiers = [AcmeIdentifier.Dns(hostname)] }, Ct);
        Assert.Equal("pending", order.Status);
        foreach (var url in order.Authorizations)
        {
            var authorization = await client.GetAuthorizationAsync(url, Ct);
            var challenge = authorization.Challenges.Single(c => c.Type == "dns-01");
            var name = "_acme-challenge." + authorization.Identifier.Value;
            await AcmeLab.SetTxtAsync(lab.ChallTestSrv, name, client.GetDns01TxtValue(challenge.Token!));
            try
            {
                await client.RespondToChallengeAsync(challenge.Url, Ct);
                Assert.Equal("valid", (await client.WaitForAuthorizationAsync(url, Ct)).Status);
            }
            finally
            {
                await AcmeLab.ClearTxtAsync(lab.ChallTestSrv, name);
            }
        }

        var request = new CertificateRequest($"CN={hostname}", certificateKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostname);
        request.CertificateExtensions.Add(san.Build());
        order = await client.FinalizeOrderAsync(order, request.CreateSigningRequest(), Ct);
        order = await client.WaitForOrderAsync(order.Location, Ct);
        Assert.Equal("valid", order.Status);
        return order;
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
}
