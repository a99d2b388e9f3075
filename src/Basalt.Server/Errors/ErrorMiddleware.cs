using Basalt.Inference.Chat;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Basalt.Inference.Engine;
using Basalt.Inference.Model;
using Basalt.Server.Json;
using Basalt.Server.Observability;

namespace Basalt.Server.Errors;

/// <summary>
/// The one place where failures become HTTP errors: every exception, and every error status left
/// without a body (unknown route, wrong method), leaves as an OpenAI error body. Nothing escapes as a 500
/// page or a dropped server.
/// </summary>
internal sealed class ErrorMiddleware(RequestDelegate next, ILogger<ErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
            if (context.Response.StatusCode >= 400 && !context.Response.HasStarted && context.Response.ContentLength is null)
                await WriteAsync(context, DescribeStatus(context.Response.StatusCode));
        }
        catch (Exception e) when (context.RequestAborted.IsCancellationRequested && e is OperationCanceledException or IOException or ChannelClosedException)
        {
            // The client went away; there is no one to answer.
            context.Features.Get<RequestTelemetry>()?.MarkClientClosed();
        }
        catch (Exception e)
        {
            var error = Map(e is ChannelClosedException { InnerException: { } inner } ? inner : e);
            if (error.Status == HttpStatusCode.InternalServerError)
                logger.LogError(e, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
            if (context.Response.HasStarted)
            {
                // Mid-stream there is no status left to change: end the connection so the client sees a failure, not a short success.
                logger.LogWarning("Error after the response started on {Path}: {Message}", context.Request.Path, e.Message);
                context.Abort();
                return;
            }
            context.Response.Clear();
            if (e is EngineBusyException) context.Response.Headers.RetryAfter = "1";
            context.Response.StatusCode = (int)error.Status;
            await WriteAsync(context, error);
        }
    }

    private static ApiException Map(Exception e) => e switch
    {
        ApiException api => api,
        EngineBusyException busy => new ApiException(HttpStatusCode.TooManyRequests, busy.Message, "rate_limit_error", code: "server_busy"),
        ContextOverflowException overflow => new ApiException(HttpStatusCode.BadRequest,
            $"This model's context holds {overflow.Capacity} tokens, but the request needs {overflow.Requested}; shorten the prompt.",
            code: "context_length_exceeded"),
        BadHttpRequestException { StatusCode: 413 } => new ApiException(HttpStatusCode.RequestEntityTooLarge,
            "The request body is larger than this server accepts.", code: "request_too_large"),
        BadHttpRequestException bad => new ApiException((HttpStatusCode)bad.StatusCode, bad.Message),
        JsonException json => new ApiException(HttpStatusCode.BadRequest, $"Malformed JSON: {json.Message}", code: "invalid_json"),
        TemplateException template => new ApiException(HttpStatusCode.BadRequest, $"The model's chat template rejected the messages: {template.Message}", param: "messages", code: "invalid_messages"),
        ArgumentException arg => new ApiException(HttpStatusCode.BadRequest, arg.Message, param: arg.ParamName),
        _ => new ApiException(HttpStatusCode.InternalServerError, "The server hit an internal error; it has been logged.", "server_error", code: "internal_error"),
    };

    private static ApiException DescribeStatus(int status) => status switch
    {
        401 => new ApiException(HttpStatusCode.Unauthorized, "Authentication required.", code: "invalid_api_key"),
        404 => new ApiException(HttpStatusCode.NotFound, "No such endpoint.", code: "not_found"),
        405 => new ApiException(HttpStatusCode.MethodNotAllowed, "This endpoint does not accept that HTTP method.", code: "method_not_allowed"),
        413 => new ApiException(HttpStatusCode.RequestEntityTooLarge, "The request body is larger than this server accepts.", code: "request_too_large"),
        _ => new ApiException((HttpStatusCode)status, $"The request failed with status {status}.", status >= 500 ? "server_error" : "invalid_request_error"),
    };

    private static Task WriteAsync(HttpContext context, ApiException error)
    {
        context.Response.StatusCode = (int)error.Status;
        var body = new ErrorBody(new ErrorDetail(error.Message, error.Type, error.Param, error.Code));
        return context.Response.WriteAsJsonAsync(body, ServerJson.Options, "application/json", CancellationToken.None);
    }
}
