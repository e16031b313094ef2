using System.Data.Common;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Sndctl.Provisioning.AspNetCore.Internal;

namespace Sndctl.Provisioning.AspNetCore.Tests;

/// <summary>A database that is down or out of connections is a 503 with Retry-After, never a 500; other failures are not its business.</summary>
public sealed class StoreUnavailableExceptionHandlerTests
{
    [Fact]
    public async Task A_database_failure_however_wrapped_is_a_503_problem_with_Retry_After()
    {
        var (handler, context, body) = Create();
        var wrapped = new InvalidOperationException("An exception has been raised that is likely due to a transient failure.", new FakeDbException("53300: sorry, too many clients already"));

        Assert.True(await handler.TryHandleAsync(context, wrapped, default));

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("5", context.Response.Headers.RetryAfter.ToString());
        Assert.StartsWith("application/problem+json", context.Response.ContentType, StringComparison.Ordinal);
        using var problem = JsonDocument.Parse(body.ToArray());
        Assert.EndsWith("/storage-unavailable", problem.RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("53300", System.Text.Encoding.UTF8.GetString(body.ToArray()), StringComparison.Ordinal); // the database's words stay in the log
    }

    [Fact]
    public async Task The_request_path_is_logged_escaped_so_it_cannot_forge_log_lines()
    {
        var logger = new FakeLogger<StoreUnavailableExceptionHandler>();
        var (handler, context, _) = Create(logger);
        context.Request.Path = "/api/register\n2026-12-07 ERROR forged line\r" + new string('a', 500);

        Assert.True(await handler.TryHandleAsync(context, new FakeDbException("down"), default));

        var message = logger.LatestRecord.Message;
        Assert.DoesNotContain('\n', message);
        Assert.DoesNotContain('\r', message);
        Assert.Contains("/api/register\\x0a2026-12-07 ERROR forged line\\x0d", message, StringComparison.Ordinal);
        Assert.True(message.Length < 400, message); // capped
    }

    [Fact]
    public async Task Other_failures_are_left_to_the_next_handler()
    {
        var (handler, context, _) = Create();

        Assert.False(await handler.TryHandleAsync(context, new InvalidOperationException("a bug"), default));
        Assert.Equal(200, context.Response.StatusCode);
    }

    private static (StoreUnavailableExceptionHandler Handler, DefaultHttpContext Context, MemoryStream Body) Create(ILogger<StoreUnavailableExceptionHandler>? logger = null)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var body = new MemoryStream();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Response.Body = body;
        var handler = new StoreUnavailableExceptionHandler(services.GetRequiredService<IProblemDetailsService>(), logger ?? NullLogger<StoreUnavailableExceptionHandler>.Instance);
        return (handler, context, body);
    }

    private sealed class FakeDbException(string message) : DbException(message);
}
