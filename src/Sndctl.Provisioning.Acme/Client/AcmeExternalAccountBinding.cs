using System.Buffers.Text;

namespace Sndctl.Provisioning.Acme;

/// <summary>External Account Binding credentials from the CA.</summary>
/// <param name="KeyId">The key identifier the CA gave.</param>
/// <param name="HmacKey">The MAC key (decoded from the CA's base64url text).</param>
public sealed record AcmeExternalAccountBinding(string KeyId, byte[] HmacKey)
{
    /// <summary>Reads the MAC key from the base64url text CAs hand out.</summary>
    public static AcmeExternalAccountBinding FromBase64Url(string keyId, string hmacKeyBase64Url)
        => new(keyId, Base64Url.DecodeFromChars(hmacKeyBase64Url.Trim().TrimEnd('=')));

    /// <inheritdoc />
    public override string ToString() => $"AcmeExternalAccountBinding {{ KeyId = {KeyId}, HmacKey = *** }}";
}
