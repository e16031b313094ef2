using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>
/// The database could not be reached or refused a connection (down, failing over, out of
/// connections): a 503 problem with Retry-After, which devices retry, instead of a 500. Anything else
/// is left to the application's other handlers. Used by <c>app.UseExceptionHandler()</c>.
/// </summary>
internal sealed partial class StoreUnavailableExceptionHandler(IProblemDetailsService problems, ILogger<StoreUnavailableExceptionHandler> logger) : IExceptionHandler
{
    private static readonly TimeSpan s_retryAfter = TimeSpan.FromSeconds(5);

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsStoreUnavailable(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }

        // The path is the client's text: logged escaped, so it cannot forge log lines.
        Log.StoreUnavailable(logger, LogText.Of(httpContext.Request.Path.Value), exception);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = ((int)s_retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var problem = Problems.Create(StatusCodes.Status503ServiceUnavailable, "storage-unavailable", "The database is unavailable.", "The server cannot reach its database right now; try again after Retry-After.").ProblemDetails;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception }).ConfigureAwait(false);
    }

    /// <summary>A database error anywhere in the chain (EF wraps transient ones in InvalidOperationException), or a timeout opening a connection.</summary>
    internal static bool IsStoreUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException or TimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "The database could not serve {Path}; answered 503.")]
        public static partial void StoreUnavailable(ILogger logger, string path, Exception exception);
    }
}
