using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Sndctl.Provisioning.AspNetCore.Internal;

/// <summary>The <c>page</c> and <c>pageSize</c> query parameters of every admin list.</summary>
internal static class Paging
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public static bool TryRead(HttpContext context, out int page, out int pageSize, out ProblemHttpResult? problem)
    {
        page = 1;
        pageSize = DefaultPageSize;
        problem = null;
        var query = context.Request.Query;
        if (query["page"] is { Count: > 0 } p && !string.IsNullOrEmpty(p[0])
            && (!int.TryParse(p[0], NumberStyles.None, CultureInfo.InvariantCulture, out page) || page < 1 || page > 1_000_000))
        {
            problem = Problems.BadRequest("page must be a positive whole number.");
            return false;
        }

        if (query["pageSize"] is { Count: > 0 } s && !string.IsNullOrEmpty(s[0])
            && (!int.TryParse(s[0], NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > MaxPageSize))
        {
            problem = Problems.BadRequest($"pageSize must be between 1 and {MaxPageSize}.");
            return false;
        }

        return true;
    }
}
