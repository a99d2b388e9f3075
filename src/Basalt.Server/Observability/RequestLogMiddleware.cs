using System.Diagnostics;

namespace Basalt.Server.Observability;

/// <summary>Times every request, counts it by endpoint and status, and writes one structured log line for it.</summary>
internal sealed class RequestLogMiddleware(RequestDelegate next, ServerMetrics metrics, ILogger<RequestLogMiddleware> logger)
{
    // What nginx logs for a client that hung up before the answer.
    private const int ClientClosedRequest = 499;

    public async Task InvokeAsync(HttpContext context)
    {
        var telemetry = new RequestTelemetry();
        context.Features.Set(telemetry);
        try
        {
            await next(context);
        }
        finally
        {
            int status = telemetry.ClientClosed || context.RequestAborted.IsCancellationRequested ? ClientClosedRequest : context.Response.StatusCode;
            string endpoint = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "other";
            metrics.CountRequest(endpoint, status);
            logger.LogInformation("{Method} {Path} {Status} {DurationMs:F1} ms model={Model} prompt_tokens={PromptTokens} completion_tokens={CompletionTokens}",
                context.Request.Method, context.Request.Path.Value, status, Stopwatch.GetElapsedTime(telemetry.StartTimestamp).TotalMilliseconds,
                telemetry.Model ?? "-", telemetry.PromptTokens, telemetry.CompletionTokens);
        }
    }
}
