using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>
/// A request the server could not read (a chunked body with a bad chunk size, a body shorter than its
/// Content-Length, a client gone mid-body) is the client's fault: a 400 problem (or the status Kestrel chose,
/// such as 413), logged at Debug, never a 500 with a stack trace at Error, which anyone could flood the log with.
/// Used by <c>app.UseExceptionHandler()</c>; the endpoints' own body reader (<see cref="JsonBody"/>) answers
/// these itself.
/// </summary>
internal sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems, ILogger<BadRequestExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsUnreadableRequest(exception))
        {
            return false;
        }

        Log.BadRequest(logger, LogText.Of(httpContext.Request.Path.Value), exception.Message);
        if (httpContext.Response.HasStarted)
        {
            return true;
        }

        httpContext.Response.StatusCode = exception is BadHttpRequestException { StatusCode: >= 400 and < 500 } bad ? bad.StatusCode : StatusCodes.Status400BadRequest;
        var problem = Problems.Create(httpContext.Response.StatusCode, "invalid-request", "The request could not be read.", "The request body is malformed or incomplete (chunked encoding, Content-Length); send it again whole.").ProblemDetails;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem }).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether reading the request failed because of what the client sent: Kestrel's <see cref="BadHttpRequestException"/>,
    /// or the <see cref="IOException"/> Kestrel throws for some malformed chunk sizes (an overflowing one, say).
    /// </summary>
    public static bool IsUnreadableRequest(Exception exception)
        => exception is BadHttpRequestException
            || (exception is IOException && exception.Source?.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal) == true);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "A request to {Path} could not be read: {Reason}")]
        public static partial void BadRequest(ILogger logger, string path, string reason);
    }
}
