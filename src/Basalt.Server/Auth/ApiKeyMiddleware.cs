using System.Net;
using System.Security.Cryptography;
using System.Text;
using Basalt.Server.Errors;

namespace Basalt.Server.Auth;

/// <summary>
/// Bearer-key check for the API (<c>/v1</c>, <c>/api</c>, <c>/metrics</c>). <c>/health</c> and the web UI's
/// static files stay open: the UI asks for a key itself. With no keys configured everything is open.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, ServerOptions options)
{
    private readonly byte[][] _keys = options.ApiKeys.Where(k => k.Length > 0).Select(Encoding.UTF8.GetBytes).ToArray();

    public Task InvokeAsync(HttpContext context)
    {
        if (_keys.Length == 0 || !IsProtected(context.Request.Path)) return next(context);
        string? header = context.Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw new ApiException(HttpStatusCode.Unauthorized,
                "No API key given; send it as 'Authorization: Bearer KEY'.", code: "invalid_api_key");
        byte[] given = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        // Fixed-time comparison so response timing does not reveal how much of a key was right.
        int matched = -1;
        for (int i = 0; i < _keys.Length; i++)
            if (CryptographicOperations.FixedTimeEquals(_keys[i], given)) matched = i;
        if (matched < 0)
            throw new ApiException(HttpStatusCode.Unauthorized, "The API key is not valid.", code: "invalid_api_key");
        context.Items[CacheScopeItem] = "key-" + matched.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return next(context);
    }

    private const string CacheScopeItem = "basalt.cache-scope";

    /// <summary>
    /// The prompt-cache scope of the request: one per API key, so clients with different keys never share computed
    /// prompt tokens (nor learn, from timing or <c>cached_tokens</c>, what another sent); null when the server has no keys.
    /// </summary>
    public static string? CacheScope(HttpContext context) => context.Items.TryGetValue(CacheScopeItem, out var scope) ? scope as string : null;

    private static bool IsProtected(PathString path) =>
        path.StartsWithSegments("/v1") || path.StartsWithSegments("/api") || path.StartsWithSegments("/metrics");
}
