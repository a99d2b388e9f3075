namespace Basalt.Server.Health;

/// <summary><c>GET /health</c>: liveness, open without a key so load balancers can probe it.</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", () => TypedResults.Json(new { status = "ok" }));
        return app;
    }
}
