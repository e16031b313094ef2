using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using Sndctl.Provisioning.Core.Internal;

namespace Sndctl.Provisioning.Core.Tests;

public sealed class DeviceSecretHasherTests
{
    private static DeviceSecretHasher CreateHasher(Mock<IIssuerStateStore> state)
    {
        var services = new ServiceCollection().AddScoped(_ => state.Object).BuildServiceProvider();
        return new DeviceSecretHasher(services.GetRequiredService<IServiceScopeFactory>(), new EphemeralDataProtectionProvider());
    }

    private static Mock<IIssuerStateStore> StoreKeepingFirstValue()
    {
        string? stored = null;
        var state = new Mock<IIssuerStateStore>();
        state.Setup(s => s.GetOrAddAsync(DeviceSecretHasher.StateKey, It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string _, string value, CancellationToken _) => stored ??= value);
        return state;
    }

    private static Device DeviceWith(byte[] hash, byte[]? pending = null)
        => new() { DeviceId = "d1", Hostname = "d1.example.com", SecretHash = hash, PendingSecretHash = pending };

    [Fact]
    public async Task Match_names_the_secret_or_the_pending_one()
    {
        using var hasher = CreateHasher(StoreKeepingFirstValue());
        var secret = DeviceNames.NewSecret();
        var next = DeviceNames.NewSecret();
        var device = DeviceWith(await hasher.HashAsync(secret, default), await hasher.HashAsync(next, default));
        Assert.Equal(SecretMatch.Current, await hasher.MatchAsync(secret, device, default));
        Assert.Equal(SecretMatch.Pending, await hasher.MatchAsync(next, device, default));
    }

    [Fact]
    public async Task Match_wrong_or_missing_is_none()
    {
        using var hasher = CreateHasher(StoreKeepingFirstValue());
        var device = DeviceWith(await hasher.HashAsync("right", default));
        Assert.Equal(SecretMatch.None, await hasher.MatchAsync("wrong", device, default));
        Assert.Equal(SecretMatch.None, await hasher.MatchAsync(null, device, default));
        Assert.Equal(SecretMatch.None, await hasher.MatchAsync("right", null, default));
        Assert.Equal(SecretMatch.None, await hasher.MatchAsync("", device, default));
        Assert.Equal(SecretMatch.None, await hasher.MatchAsync("", DeviceWith(new byte[32]), default)); // No pending secret: the dummy never matches.
    }

    [Fact]
    public async Task Hash_is_keyed_not_plain_SHA256_and_differs_per_deployment()
    {
        using var first = CreateHasher(StoreKeepingFirstValue());
        using var second = CreateHasher(StoreKeepingFirstValue());
        var a = await first.HashAsync("secret", default);
        var b = await second.HashAsync("secret", default);
        Assert.NotEqual(a, b);
        Assert.NotEqual(System.Security.Cryptography.SHA256.HashData("secret"u8), a);
    }

    [Fact]
    public async Task Hash_loads_key_once()
    {
        var state = StoreKeepingFirstValue();
        using var hasher = CreateHasher(state);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => hasher.HashAsync("x", default).AsTask()));
        state.Verify(s => s.GetOrAddAsync(DeviceSecretHasher.StateKey, It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Hash_stores_key_encrypted()
    {
        string? stored = null;
        var state = new Mock<IIssuerStateStore>();
        state.Setup(s => s.GetOrAddAsync(DeviceSecretHasher.StateKey, It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string _, string value, CancellationToken _) => stored = value);
        using var hasher = CreateHasher(state);
        await hasher.HashAsync("x", default);
        Assert.NotNull(stored);
        var looksLikeBareKey = Convert.TryFromBase64String(stored!, new byte[64], out var length) && length == 32;
        Assert.False(looksLikeBareKey);
    }
}
