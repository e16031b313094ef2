using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Sndctl.Provisioning.Acme.Internal;

namespace Sndctl.Provisioning.Acme.Tests;

/// <summary>JWS, JWK thumbprints, key authorizations, problem documents and ARI identifiers, against published examples.</summary>
public sealed class AcmeProtocolTests
{
    private const string Rfc7638Modulus =
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    [Fact]
    public void Thumbprint_matches_the_RFC_7638_example()
    {
        var jwk = $$"""{"kty":"RSA","n":"{{Rfc7638Modulus}}","e":"AQAB","alg":"RS256","kid":"2011-04-29"}""";
        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", AcmeAccountKey.ComputeThumbprint(jwk));
    }

    [Fact]
    public void An_RSA_account_key_with_the_RFC_7638_modulus_has_the_published_thumbprint()
    {
        // Same public key as the RFC's example, imported as a key of ours: our JWK must be canonical.
        using var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters { Modulus = Base64Url.DecodeFromChars(Rfc7638Modulus), Exponent = [1, 0, 1] });
        var jwk = $$"""{"e":"AQAB","kty":"RSA","n":"{{Base64Url.EncodeToString(rsa.ExportParameters(false).Modulus)}}"}""";
        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", AcmeAccountKey.ComputeThumbprint(jwk));
    }

    [Theory]
    [InlineData(AcmeKeyAlgorithm.ES256, "P-256")]
    [InlineData(AcmeKeyAlgorithm.ES384, "P-384")]
    public void Own_keys_publish_a_canonical_jwk_whose_thumbprint_is_consistent(AcmeKeyAlgorithm algorithm, string curve)
    {
        using var key = AcmeAccountKey.Create(algorithm);
        Assert.StartsWith($$"""{"crv":"{{curve}}","kty":"EC","x":""", key.JwkJson, StringComparison.Ordinal);
        Assert.DoesNotContain(" ", key.JwkJson, StringComparison.Ordinal);
        Assert.Equal(AcmeAccountKey.ComputeThumbprint(key.JwkJson), key.Thumbprint);

        using var reloaded = AcmeAccountKey.FromPem(key.ExportPem());
        Assert.Equal(key.Thumbprint, reloaded.Thumbprint);
        Assert.Equal(algorithm, reloaded.Algorithm);
    }

    [Fact]
    public void Dns01_value_is_the_hash_of_the_key_authorization_from_RFC_8555_section_8_4()
    {
        const string token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
        var keyAuthorization = token + ".NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
        Assert.Equal("ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8", AcmeAccountKey.ComputeDns01TxtValue(keyAuthorization));

        using var key = AcmeAccountKey.Create();
        Assert.Equal(token + "." + key.Thumbprint, key.GetKeyAuthorization(token));
        Assert.Equal(AcmeAccountKey.ComputeDns01TxtValue(token + "." + key.Thumbprint), key.GetDns01TxtValue(token));
    }

    [Theory]
    [InlineData(AcmeKeyAlgorithm.ES256)]
    [InlineData(AcmeKeyAlgorithm.ES384)]
    [InlineData(AcmeKeyAlgorithm.RS256)]
    public void Jws_carries_the_ACME_header_and_a_signature_that_verifies(AcmeKeyAlgorithm algorithm)
    {
        using var key = AcmeAccountKey.Create(algorithm);
        var url = new Uri("https://ca.example/acme/new-order");
        var jws = Jws.Sign(key, url, "nonce-1", new Uri("https://ca.example/acme/acct/7"), """{"identifiers":[]}"""u8.ToArray());

        using var document = JsonDocument.Parse(jws);
        var root = document.RootElement;
        var protectedPart = root.GetProperty("protected").GetString()!;
        var payloadPart = root.GetProperty("payload").GetString()!;
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(protectedPart));
        Assert.Equal(key.JwsAlgorithm, header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("nonce-1", header.RootElement.GetProperty("nonce").GetString());
        Assert.Equal(url.AbsoluteUri, header.RootElement.GetProperty("url").GetString());
        Assert.Equal("https://ca.example/acme/acct/7", header.RootElement.GetProperty("kid").GetString());
        Assert.False(header.RootElement.TryGetProperty("jwk", out _));
        Assert.Equal("""{"identifiers":[]}""", Encoding.UTF8.GetString(Base64Url.DecodeFromChars(payloadPart)));

        Assert.True(Verify(key, Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart), Base64Url.DecodeFromChars(root.GetProperty("signature").GetString()!)));
    }

    [Fact]
    public void New_account_requests_embed_the_jwk_and_POST_as_GET_has_an_empty_payload()
    {
        using var key = AcmeAccountKey.Create();
        using var document = JsonDocument.Parse(Jws.Sign(key, new Uri("https://ca.example/new-acct"), "n", kid: null, payload: null));
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(document.RootElement.GetProperty("protected").GetString()!));
        Assert.Equal(key.JwkJson, header.RootElement.GetProperty("jwk").GetRawText());
        Assert.False(header.RootElement.TryGetProperty("kid", out _));
        Assert.Equal(string.Empty, document.RootElement.GetProperty("payload").GetString());
    }

    [Fact]
    public void External_account_binding_MACs_the_account_jwk_with_HS256()
    {
        using var key = AcmeAccountKey.Create();
        var macKey = RandomNumberGenerator.GetBytes(32);
        var url = new Uri("https://ca.example/new-acct");
        using var eab = JsonDocument.Parse(Jws.CreateExternalAccountBinding(key, "kid-1", macKey, url));
        var protectedPart = eab.RootElement.GetProperty("protected").GetString()!;
        var payloadPart = eab.RootElement.GetProperty("payload").GetString()!;
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(protectedPart));

        Assert.Equal("HS256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("kid-1", header.RootElement.GetProperty("kid").GetString());
        Assert.Equal(url.AbsoluteUri, header.RootElement.GetProperty("url").GetString());
        Assert.False(header.RootElement.TryGetProperty("nonce", out _));
        Assert.Equal(key.JwkJson, Encoding.UTF8.GetString(Base64Url.DecodeFromChars(payloadPart)));
        Assert.Equal(
            HMACSHA256.HashData(macKey, Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart)),
            Base64Url.DecodeFromChars(eab.RootElement.GetProperty("signature").GetString()!));
    }

    [Fact]
    public void Problem_documents_become_typed_exceptions_with_subproblems_and_retry_after()
    {
        var body = """
            {"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates (50) already issued for \"example.com\"",
             "status":429,"subproblems":[{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"no","identifier":{"type":"dns","value":"a.example.com"}}]}
            """u8;
        var problem = AcmeProblemParser.Parse(body, "application/problem+json", (HttpStatusCode)429);
        var exception = AcmeProblemException.Create(problem, (HttpStatusCode)429, new Uri("https://ca.example/new-order"), TimeSpan.FromHours(1));

        var rateLimited = Assert.IsType<AcmeRateLimitedException>(exception);
        Assert.Equal(TimeSpan.FromHours(1), rateLimited.RetryAfter);
        Assert.Equal("rateLimited", problem.ShortType);
        Assert.Equal("a.example.com", problem.Subproblems![0].Identifier!.Value);
        Assert.Contains("a.example.com: rejectedIdentifier", exception.Message, StringComparison.Ordinal);

        Assert.IsType<AcmeBadNonceException>(Create("badNonce"));
        Assert.IsType<AcmeUnauthorizedException>(Create("unauthorized"));
        Assert.IsType<AcmeAccountDoesNotExistException>(Create("accountDoesNotExist"));
        Assert.IsType<AcmeExternalAccountRequiredException>(Create("externalAccountRequired"));
        Assert.Equal(typeof(AcmeProblemException), Create("badCSR").GetType());

        static AcmeProblemException Create(string type) => AcmeProblemException.Create(
            AcmeProblemParser.Parse(Encoding.UTF8.GetBytes($$"""{"type":"urn:ietf:params:acme:error:{{type}}","detail":"x"}"""), "application/problem+json", HttpStatusCode.BadRequest),
            HttpStatusCode.BadRequest,
            null,
            null);
    }

    [Fact]
    public void An_answer_that_is_not_a_problem_document_is_described_not_lost()
    {
        var problem = AcmeProblemParser.Parse("<html>502 Bad Gateway</html>"u8, "text/html", HttpStatusCode.BadGateway);
        Assert.Equal(AcmeErrorTypes.ServerInternal, problem.Type);
        Assert.Equal(502, problem.Status);
        Assert.Contains("502 Bad Gateway", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Link_headers_yield_alternates_and_up()
    {
        var links = LinkHeader.Parse(["<https://ca.example/cert/1/1>;rel=\"alternate\", <https://ca.example/issuer>; rel=up", "</cert/1/2>;rel=\"alternate\""]).ToList();
        Assert.Equal(3, links.Count);
        Assert.Equal(("alternate", "https://ca.example/cert/1/1"), (links[0].Relation, links[0].Target.OriginalString));
        Assert.Equal("up", links[1].Relation);
        Assert.Equal("/cert/1/2", links[2].Target.OriginalString);
    }

    [Fact]
    public void Ari_certificate_identifier_matches_the_RFC_9773_example()
    {
        // RFC 9773 §4.1: AKI keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4, serial 00:87:65:43:21.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=a.example", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(Convert.FromHexString("69885B6B87464041E1B37B847BA0AE2CDE01C8D4")));
        using var issuer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = request.Create(new X500DistinguishedName("CN=Issuer"), X509SignatureGenerator.CreateForECDsa(issuer),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), Convert.FromHexString("0087654321"));

        Assert.Equal("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", AcmeCertificateIdentifier.TryGet(certificate));
    }

    [Fact]
    public void Renewal_time_is_inside_the_suggested_window()
    {
        var start = DateTimeOffset.Parse("2026-01-03T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var info = new AcmeRenewalInfo { SuggestedWindow = new AcmeRenewalWindow(start, start.AddDays(2)) };
        var picks = Enumerable.Range(0, 200).Select(_ => info.PickRenewalTime()).ToList();
        Assert.All(picks, p => Assert.InRange(p, start, start.AddDays(2)));
        Assert.True(picks.Distinct().Count() > 150, "times are spread over the window");
        Assert.Equal(start, new AcmeRenewalInfo { SuggestedWindow = new AcmeRenewalWindow(start, start.AddDays(-1)) }.PickRenewalTime());
    }

    private static bool Verify(AcmeAccountKey key, byte[] data, byte[] signature)
    {
        using var document = JsonDocument.Parse(key.JwkJson);
        var jwk = document.RootElement;
        if (key.Algorithm == AcmeKeyAlgorithm.RS256)
        {
            using var rsa = RSA.Create(new RSAParameters
            {
                Modulus = Base64Url.DecodeFromChars(jwk.GetProperty("n").GetString()!),
                Exponent = Base64Url.DecodeFromChars(jwk.GetProperty("e").GetString()!),
            });
            return rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }

        var p384 = key.Algorithm == AcmeKeyAlgorithm.ES384;
        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = p384 ? ECCurve.NamedCurves.nistP384 : ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64Url.DecodeFromChars(jwk.GetProperty("x").GetString()!), Y = Base64Url.DecodeFromChars(jwk.GetProperty("y").GetString()!) },
        });
        Assert.Equal(p384 ? 96 : 64, signature.Length); // JWS ECDSA signatures are fixed-size r||s, not DER.
        return ecdsa.VerifyData(data, signature, p384 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256);
    }
}
