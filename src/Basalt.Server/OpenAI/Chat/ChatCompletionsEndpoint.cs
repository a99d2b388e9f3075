using System.Text.Json;
using Basalt.Inference.Engine;
using Basalt.Server.Errors;
using Basalt.Server.Generation;
using Basalt.Server.Json;
using Basalt.Server.Models;
using Basalt.Server.Observability;
using Basalt.Server.Prompting;
using Basalt.Tokenizers;

namespace Basalt.Server.OpenAI.Chat;

/// <summary><c>POST /v1/chat/completions</c>, streaming (SSE) and not.</summary>
internal static class ChatCompletionsEndpoint
{
    private const int MaxTopLogProbs = 20;

    public static IEndpointRouteBuilder MapChatCompletions(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", HandleAsync);
        return app;
    }

    private static async Task HandleAsync(HttpContext context, ModelRegistry registry, ServerMetrics metrics)
    {
        var body = await RequestBody.ReadAsync<ChatCompletionRequest>(context.Request);
        string model = OpenAIParameters.RequireModel(body);
        var turns = ReadMessages(body.Messages);
        int n = OpenAIParameters.Choices(body.N);
        int? maxTokens = OpenAIParameters.MaxTokens(body.MaxCompletionTokens, "max_completion_tokens") ?? OpenAIParameters.MaxTokens(body.MaxTokens, "max_tokens");
        int top = body.TopLogprobs ?? 0;
        if (top is < 0 or > MaxTopLogProbs) throw ApiException.InvalidParameter("top_logprobs", $"'top_logprobs' must be between 0 and {MaxTopLogProbs}; got {top}.");
        if (top > 0 && body.Logprobs != true) throw ApiException.InvalidParameter("logprobs", "'logprobs' must be true when 'top_logprobs' is used.");
        bool logProbs = body.Logprobs == true;

        using var lease = registry.Acquire(model);
        context.Features.Get<RequestTelemetry>()!.Model = lease.Name;
        var loaded = lease.Model.Model;
        string prompt = PromptFormatter.Format(loaded, turns);
        var requests = Enumerable.Range(0, n)
            .Select(i => OpenAIParameters.ToEngineRequest(body, maxTokens, loaded.Config.VocabSize, logProbs, top, i) with { Prompt = prompt })
            .ToList();
        using var run = await GenerationRun.StartAsync(lease.Model.Engine, requests, context, metrics, n);
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (body.Stream == true)
            await StreamAsync(context, run, id, created, lease.Name, loaded.Tokenizer, logProbs, body.StreamOptions?.IncludeUsage == true);
        else
            await RespondAsync(context, run, id, created, lease.Name, loaded.Tokenizer, logProbs);
    }

    private static async Task RespondAsync(HttpContext context, GenerationRun run, string id, long created, string model, Tokenizer tokenizer, bool logProbs)
    {
        var choices = new List<ChatChoice>();
        int promptTokens = 0, completionTokens = 0, cachedTokens = 0;
        for (int i = 0; i < run.Count; i++)
        {
            var r = await run.CollectAsync(i, context.RequestAborted);
            promptTokens = r.Usage.PromptTokens;
            if (i == 0) cachedTokens = r.Usage.CachedPromptTokens; // the choices share one prompt: counted once, as for completions
            completionTokens += r.Usage.CompletionTokens;
            choices.Add(new ChatChoice(i, new ChatResponseMessage("assistant", r.Text),
                logProbs ? new ChatLogProbs([.. r.Tokens.Select(t => LogProb(tokenizer, t))]) : null,
                GenerationRun.FinishText(r.FinishReason)));
        }
        var response = new ChatCompletionResponse(id, created, model, choices, OpenAIUsage.Of(promptTokens, completionTokens, cachedTokens));
        await context.Response.WriteAsJsonAsync(response, ServerJson.Options, context.RequestAborted);
    }

    private static async Task StreamAsync(HttpContext context, GenerationRun run, string id, long created, string model, Tokenizer tokenizer,
        bool logProbs, bool includeUsage)
    {
        await ServerSentEvents.StartAsync(context.Response);
        int promptTokens = 0, completionTokens = 0, cachedTokens = 0;
        for (int i = 0; i < run.Count; i++)
        {
            await ServerSentEvents.WriteAsync(context.Response, Chunk(id, created, model, new ChatChunkChoice(i, new ChatDelta("assistant", ""), null, null)));
            await foreach (var u in run.ReadAsync(i, context.RequestAborted))
            {
                if (u.IsFinal)
                {
                    promptTokens = u.Usage!.PromptTokens;
                    if (i == 0) cachedTokens = u.Usage.CachedPromptTokens;
                    completionTokens += u.Usage.CompletionTokens;
                    if (u.Text.Length > 0)
                        await ServerSentEvents.WriteAsync(context.Response, Chunk(id, created, model, new ChatChunkChoice(i, new ChatDelta(null, u.Text), null, null)));
                    await ServerSentEvents.WriteAsync(context.Response, Chunk(id, created, model,
                        new ChatChunkChoice(i, new ChatDelta(null, null), null, GenerationRun.FinishText(u.FinishReason!.Value))));
                    break;
                }
                var lp = logProbs ? new ChatLogProbs([LogProb(tokenizer, u)]) : null;
                await ServerSentEvents.WriteAsync(context.Response, Chunk(id, created, model, new ChatChunkChoice(i, new ChatDelta(null, u.Text), lp, null)));
            }
        }
        if (includeUsage)
            await ServerSentEvents.WriteAsync(context.Response, new ChatCompletionChunk(id, created, model, [], OpenAIUsage.Of(promptTokens, completionTokens, cachedTokens)));
        await ServerSentEvents.DoneAsync(context.Response);
    }

    private static ChatCompletionChunk Chunk(string id, long created, string model, ChatChunkChoice choice) => new(id, created, model, [choice]);

    private static ChatTokenLogProb LogProb(Tokenizer tokenizer, EngineUpdate u) => new(
        TokenText.Piece(tokenizer, u.TokenId), u.LogProb?.LogProb ?? 0f, TokenText.Bytes(tokenizer, u.TokenId),
        [.. (u.TopLogProbs ?? []).Select(t => new ChatTopLogProb(TokenText.Piece(tokenizer, t.Id), t.LogProb, TokenText.Bytes(tokenizer, t.Id)))]);

    private static List<ChatTurn> ReadMessages(List<ChatMessageDto>? messages)
    {
        if (messages is null) throw ApiException.Missing("messages");
        if (messages.Count == 0) throw ApiException.InvalidParameter("messages", "'messages' must hold at least one message.");
        var turns = new List<ChatTurn>();
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i] ?? throw ApiException.InvalidParameter($"messages[{i}]", "Each message must be an object.");
            string role = m.Role switch
            {
                "system" or "developer" => "system",
                "user" or "assistant" => m.Role,
                null => throw ApiException.Missing($"messages[{i}].role"),
                _ => throw ApiException.InvalidParameter($"messages[{i}].role", $"Role '{m.Role}' is not supported; use system, developer, user or assistant."),
            };
            turns.Add(new ChatTurn(role, ContentText(m.Content, $"messages[{i}].content")));
        }
        return turns;
    }

    private static string ContentText(JsonElement? content, string param)
    {
        if (content is not { } e || e.ValueKind == JsonValueKind.Null) return "";
        if (e.ValueKind == JsonValueKind.String) return e.GetString()!;
        if (e.ValueKind != JsonValueKind.Array) throw ApiException.InvalidParameter(param, $"'{param}' must be a string or an array of text parts.");
        var text = new System.Text.StringBuilder();
        foreach (var part in e.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.GetString() != "text"
                || !part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                throw ApiException.InvalidParameter(param, $"'{param}' parts must be {{\"type\": \"text\", \"text\": \"...\"}}; this model reads text only.");
            text.Append(t.GetString());
        }
        return text.ToString();
    }
}
