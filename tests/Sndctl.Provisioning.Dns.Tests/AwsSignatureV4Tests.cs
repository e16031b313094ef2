using Sndctl.Provisioning.Dns.Route53.Internal;

namespace Sndctl.Provisioning.Dns.Tests;

/// <summary>
/// The signer against AWS's published Signature Version 4 examples: the test suite's
/// <c>get-vanilla</c>, <c>get-vanilla-query-order-key-case</c> and <c>get-utf8</c> requests (credentials
/// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z, us-east-1, service
/// "service"), and the derived signing key of the "Deriving the signing key" example.
/// </summary>
public sealed class AwsSignatureV4Tests
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string AmzDate = "20150830T123600Z";
    private static readonly KeyValuePair<string, string>[] VanillaHeaders = [new("Host", "example.amazonaws.com"), new("X-Amz-Date", AmzDate)];
    private const string EmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void Get_vanilla_canonical_request_string_to_sign_and_signature()
    {
        var (canonical, signed) = AwsSignatureV4.CanonicalRequest("GET", "/", string.Empty, VanillaHeaders, EmptyHash);

        Assert.Equal("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + EmptyHash, canonical);
        Assert.Equal("host;x-amz-date", signed);
        Assert.Equal(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            AwsSignatureV4.StringToSign(AmzDate, "us-east-1", "service", canonical));
        Assert.Equal("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", AwsSignatureV4.Signature(Secret, AmzDate, "us-east-1", "service", canonical));
    }

    [Fact]
    public void Get_vanilla_query_order_key_case_sorts_the_parameters()
    {
        var (canonical, _) = AwsSignatureV4.CanonicalRequest("GET", "/", "?Param2=value2&Param1=value1", VanillaHeaders, EmptyHash);

        Assert.Equal("GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + EmptyHash, canonical);
        Assert.Equal("b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500", AwsSignatureV4.Signature(Secret, AmzDate, "us-east-1", "service", canonical));
    }

    [Fact]
    public void Get_utf8_encodes_the_path_with_upper_case_hex()
    {
        var (canonical, _) = AwsSignatureV4.CanonicalRequest("GET", "/%E1%88%B4", string.Empty, VanillaHeaders, EmptyHash);

        Assert.StartsWith("GET\n/%E1%88%B4\n\n", canonical, StringComparison.Ordinal);
        Assert.Equal("8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85", AwsSignatureV4.Signature(Secret, AmzDate, "us-east-1", "service", canonical));
    }

    [Fact]
    public void Signing_key_of_the_published_derivation_example()
    {
        var key = AwsSignatureV4.SigningKey(Secret, "20120215", "us-east-1", "iam");

        Assert.Equal("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d", Convert.ToHexStringLower(key));
    }

    [Fact]
    public void Sign_adds_the_headers_of_the_get_vanilla_example()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://example.amazonaws.com/");

        AwsSignatureV4.Sign(request, [], new AwsCredentials("AKIDEXAMPLE", Secret), "us-east-1", "service", new DateTimeOffset(2015, 8, 30, 12, 36, 0, TimeSpan.Zero));

        Assert.Equal(AmzDate, Assert.Single(request.Headers.GetValues("X-Amz-Date")));
        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            Assert.Single(request.Headers.GetValues("Authorization")));
        Assert.False(request.Headers.Contains("X-Amz-Security-Token"));
    }

    [Fact]
    public void Temporary_credentials_sign_the_session_token_and_a_body_changes_the_signature()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1/rrset") { Content = new ByteArrayContent("<x/>"u8.ToArray()) };
        request.Content.Headers.ContentType = new("application/xml");
        var now = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

        AwsSignatureV4.Sign(request, "<x/>"u8, new AwsCredentials("ASIAEXAMPLE", Secret, "session-token"), "us-east-1", "route53", now);

        var authorization = Assert.Single(request.Headers.GetValues("Authorization"));
        Assert.Contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,", authorization, StringComparison.Ordinal);
        Assert.Equal("session-token", Assert.Single(request.Headers.GetValues("X-Amz-Security-Token")));
        using var other = new HttpRequestMessage(HttpMethod.Post, request.RequestUri) { Content = new ByteArrayContent("<y/>"u8.ToArray()) };
        other.Content.Headers.ContentType = new("application/xml");
        AwsSignatureV4.Sign(other, "<y/>"u8, new AwsCredentials("ASIAEXAMPLE", Secret, "session-token"), "us-east-1", "route53", now);
        Assert.NotEqual(authorization, Assert.Single(other.Headers.GetValues("Authorization")));
    }

    [Fact]
    public void Credentials_never_print_their_secrets()
    {
        var text = new AwsCredentials("AKIDEXAMPLE", Secret, "session-token").ToString();

        Assert.Contains("AKIDEXAMPLE", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("session-token", text, StringComparison.Ordinal);
    }
}
