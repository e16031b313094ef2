using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Sndctl.Provisioning.AspNetCore.Internal;

namespace Sndctl.Provisioning.AspNetCore.Tests;

/// <summary>A request the server could not read is the client's fault: a 4xx problem logged at Debug, never a 500 logged at Error.</summary>
public sealed class BadRequestExceptionHandlerTests
{
    [Fact]
    public async Task A_body_Kestrel_could_not_read_is_a_400_problem_logged_at_Debug()
    {
        var logger = new FakeLogger<BadRequestExceptionHandler>();
        var (handler, context, body) = Create(logger);

        Assert.True(await handler.TryHandleAsync(context, new BadHttpRequestException("Bad chunk size data."), default));

        Assert.Equal(400, context.Response.StatusCode);
        Assert.StartsWith("application/problem+json", context.Response.ContentType, StringComparison.Ordinal);
        using var problem = JsonDocument.Parse(body.ToArray());
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(LogLevel.Debug, logger.LatestRecord.Level);
        Assert.Null(logger.LatestRecord.Exception); // no stack trace to flood the log with
    }

    [Fact]
    public async Task Kestrel_s_own_4xx_status_is_kept_and_other_exceptions_are_left_alone()
    {
        var (handler, context, _) = Create(new FakeLogger<BadRequestExceptionHandler>());

        Assert.True(await handler.TryHandleAsync(context, new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge), default));
        Assert.Equal(413, context.Response.StatusCode);

        var (other, otherContext, _) = Create(new FakeLogger<BadRequestExceptionHandler>());
        Assert.False(await other.TryHandleAsync(otherContext, new InvalidOperationException("a bug"), default));
        Assert.False(await other.TryHandleAsync(otherContext, new IOException("disk full"), default)); // not Kestrel's
        Assert.Equal(200, otherContext.Response.StatusCode);
    }

    [Theory]
    [InlineData("/api/register", "/api/register")]
    [InlineData("/a\nb\tc\u007f", "/a\\x0ab\\x09c\\x7f")]
    public void Text_a_client_chose_is_logged_with_control_characters_escaped(string text, string logged)
        => Assert.Equal(logged, LogText.Of(text));

    [Fact]
    public void Long_text_is_cut()
        => Assert.Equal(new string('a', 200) + "…", LogText.Of(new string('a', 5000)));

    private static (BadRequestExceptionHandler Handler, DefaultHttpContext Context, MemoryStream Body) Create(ILogger<BadRequestExceptionHandler> logger)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var body = new MemoryStream();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Response.Body = body;
        return (new BadRequestExceptionHandler(services.GetRequiredService<IProblemDetailsService>(), logger), context, body);
    }
}
