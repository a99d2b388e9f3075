using System.Text.Json;
using Basalt.Server.Json;

namespace Basalt.Server.OpenAI;

/// <summary>Writes OpenAI-style server-sent events: one <c>data: JSON</c> per chunk, then <c>data: [DONE]</c>.</summary>
internal static class ServerSentEvents
{
    public static async Task StartAsync(HttpResponse response)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Tell reverse proxies not to hold back tokens.
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(response.HttpContext.RequestAborted);
    }

    public static async Task WriteAsync<T>(HttpResponse response, T chunk)
    {
        var ct = response.HttpContext.RequestAborted;
        await response.WriteAsync("data: ", ct);
        await JsonSerializer.SerializeAsync(response.Body, chunk, ServerJson.Options, ct);
        await response.WriteAsync("\n\n", ct);
        await response.Body.FlushAsync(ct);
    }

    public static async Task DoneAsync(HttpResponse response)
    {
        var ct = response.HttpContext.RequestAborted;
        await response.WriteAsync("data: [DONE]\n\n", ct);
        await response.Body.FlushAsync(ct);
    }
}
