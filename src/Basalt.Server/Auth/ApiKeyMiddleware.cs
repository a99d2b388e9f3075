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
        if (!_keys.Any(k => CryptographicOperations.FixedTimeEquals(k, given)))
            throw new ApiException(HttpStatusCode.Unauthorized, "The API key is not valid.", code: "invalid_api_key");
        return next(context);
    }

    private static bool IsProtected(PathString path) =>
        path.StartsWithSegments("/v1") || path.StartsWithSegments("/api") || path.StartsWithSegments("/metrics");
}
