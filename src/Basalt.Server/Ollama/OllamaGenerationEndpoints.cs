using System.Globalization;
using System.Text;
using System.Text.Json;
using Basalt.Inference.Engine;
using Basalt.Server.Errors;
using Basalt.Server.Generation;
using Basalt.Server.Json;
using Basalt.Server.Models;
using Basalt.Server.Observability;
using Basalt.Server.Prompting;

namespace Basalt.Server.Ollama;

/// <summary><c>POST /api/chat</c> and <c>POST /api/generate</c>: NDJSON streams (the default) or one object.</summary>
internal static class OllamaGenerationEndpoints
{
    public static IEndpointRouteBuilder MapOllamaGeneration(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/chat", ChatAsync);
        app.MapPost("/api/generate", GenerateAsync);
        return app;
    }

    private static async Task ChatAsync(HttpContext context, ModelRegistry registry, ServerMetrics metrics)
    {
        var body = await RequestBody.ReadAsync<OllamaChatRequest>(context.Request);
        string model = OllamaParameters.RequireModel(body.Model);
        if (body.Messages is null) throw ApiException.Missing("messages");
        var turns = new List<ChatTurn>();
        for (int i = 0; i < body.Messages.Count; i++)
        {
            var m = body.Messages[i];
            if (m?.Role is not ("system" or "user" or "assistant"))
                throw ApiException.InvalidParameter($"messages[{i}].role", $"Role '{m?.Role}' is not supported; use system, user or assistant.");
            turns.Add(new ChatTurn(m.Role, m.Content ?? ""));
        }
        using var lease = registry.Acquire(model);
        if (turns.Count == 0)
        {
            // Ollama answers an empty conversation by loading the model.
            await WriteLineAsync(context, new OllamaChatChunk(lease.Name, Now(), new OllamaMessage("assistant", ""), true) { DoneReason = "load" });
            return;
        }
        string prompt = PromptFormatter.Format(lease.Model.Model, turns);
        await RunAsync(context, lease, metrics, body.Options, prompt, body.Stream ?? true,
            piece => new OllamaChatChunk(lease.Name, Now(), new OllamaMessage("assistant", piece), false),
            (text, timings) => new OllamaChatChunk(lease.Name, Now(), new OllamaMessage("assistant", text), true) with
            {
                DoneReason = timings.DoneReason, TotalDuration = timings.TotalDuration, LoadDuration = timings.LoadDuration,
                PromptEvalCount = timings.PromptEvalCount, PromptEvalDuration = timings.PromptEvalDuration,
                EvalCount = timings.EvalCount, EvalDuration = timings.EvalDuration,
            });
    }

    private static async Task GenerateAsync(HttpContext context, ModelRegistry registry, ServerMetrics metrics)
    {
        var body = await RequestBody.ReadAsync<OllamaGenerateRequest>(context.Request);
        string model = OllamaParameters.RequireModel(body.Model);
        using var lease = registry.Acquire(model);
        if (string.IsNullOrEmpty(body.Prompt))
        {
            await WriteLineAsync(context, new OllamaGenerateChunk(lease.Name, Now(), "", true) { DoneReason = "load" });
            return;
        }
        // Raw completion of the prompt (the system text, if any, goes first): chat templates apply to /api/chat.
        string prompt = body.System is { Length: > 0 } system ? system + "\n\n" + body.Prompt : body.Prompt;
        await RunAsync(context, lease, metrics, body.Options, prompt, body.Stream ?? true,
            piece => new OllamaGenerateChunk(lease.Name, Now(), piece, false),
            (text, timings) => new OllamaGenerateChunk(lease.Name, Now(), text, true) with
            {
                DoneReason = timings.DoneReason, TotalDuration = timings.TotalDuration, LoadDuration = timings.LoadDuration,
                PromptEvalCount = timings.PromptEvalCount, PromptEvalDuration = timings.PromptEvalDuration,
                EvalCount = timings.EvalCount, EvalDuration = timings.EvalDuration,
            });
    }

    /// <summary>Runs one generation and writes it as NDJSON lines, or as one object when not streaming.</summary>
    private static async Task RunAsync<T>(HttpContext context, ModelLease lease, ServerMetrics metrics, OllamaOptions? options, string prompt, bool stream,
        Func<string, T> piece, Func<string, Timings, T> done)
    {
        var telemetry = context.Features.Get<RequestTelemetry>()!;
        telemetry.Model = lease.Name;
        var request = OllamaParameters.ToEngineRequest(options, lease.Model.Engine.ContextLength) with { Prompt = prompt };
        using var run = await GenerationRun.StartAsync(lease.Model.Engine, [request], context, metrics, 1);
        if (stream)
        {
            context.Response.ContentType = "application/x-ndjson";
            await context.Response.StartAsync(context.RequestAborted);
        }
        var text = new StringBuilder();
        await foreach (var u in run.ReadAsync(0, context.RequestAborted))
        {
            if (u.IsFinal)
            {
                var timings = TimingsOf(u, lease, telemetry);
                if (stream) await WriteLineAsync(context, done(u.Text, timings));
                else await WriteLineAsync(context, done(text.Append(u.Text).ToString(), timings));
                return;
            }
            if (stream)
            {
                if (u.Text.Length > 0) await WriteLineAsync(context, piece(u.Text));
            }
            else text.Append(u.Text);
        }
    }

    /// <summary>The done-object fields, in nanoseconds as Ollama reports them.</summary>
    internal sealed record Timings(string DoneReason, long TotalDuration, long LoadDuration, int PromptEvalCount, long PromptEvalDuration, int EvalCount, long EvalDuration);

    private static Timings TimingsOf(EngineUpdate final, ModelLease lease, RequestTelemetry telemetry)
    {
        var usage = final.Usage!;
        long total = Nanos(System.Diagnostics.Stopwatch.GetElapsedTime(telemetry.StartTimestamp));
        long load = lease.ColdStart ? Nanos(lease.Model.LoadTime) : 0;
        return new Timings(GenerationRun.FinishText(final.FinishReason!.Value), total, load,
            usage.PromptTokens, Nanos(usage.PromptTime), usage.CompletionTokens, Nanos(usage.GenerationTime));
    }

    private static long Nanos(TimeSpan t) => t.Ticks * 100;

    internal static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static async Task WriteLineAsync<T>(HttpContext context, T value)
    {
        if (!context.Response.HasStarted) context.Response.ContentType ??= "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, value, ServerJson.Options, context.RequestAborted);
        await context.Response.WriteAsync("\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
