using System.Text.Json;
using Basalt.Inference.Engine;
using Basalt.Server.Errors;
using Basalt.Server.Generation;
using Basalt.Server.Json;
using Basalt.Server.Models;
using Basalt.Server.Observability;
using Basalt.Tokenizers;

namespace Basalt.Server.OpenAI.Completions;

/// <summary><c>POST /v1/completions</c>: raw prompt text (BOS added, special tokens parsed, as llama.cpp does), streaming or not.</summary>
internal static class CompletionsEndpoint
{
    // OpenAI's default for this endpoint.
    private const int DefaultMaxTokens = 16;
    private const int MaxLogProbs = 20;

    public static IEndpointRouteBuilder MapCompletions(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/completions", HandleAsync);
        return app;
    }

    private static async Task HandleAsync(HttpContext context, ModelRegistry registry, ServerMetrics metrics)
    {
        var body = await RequestBody.ReadAsync<CompletionRequest>(context.Request);
        string model = OpenAIParameters.RequireModel(body);
        var prompts = ReadPrompts(body.Prompt);
        int n = OpenAIParameters.Choices(body.N);
        int maxTokens = OpenAIParameters.MaxTokens(body.MaxTokens, "max_tokens") ?? DefaultMaxTokens;
        int logprobs = body.Logprobs ?? 0;
        if (logprobs is < 0 or > MaxLogProbs) throw ApiException.InvalidParameter("logprobs", $"'logprobs' must be between 0 and {MaxLogProbs}; got {logprobs}.");
        bool wantLogProbs = body.Logprobs is not null;

        using var lease = registry.Acquire(model);
        context.Features.Get<RequestTelemetry>()!.Model = lease.Name;
        var tokenizer = lease.Model.Model.Tokenizer;
        int vocab = lease.Model.Model.Config.VocabSize;
        var requests = new List<EngineRequest>();
        foreach (var p in prompts)
            for (int i = 0; i < n; i++)
            {
                var r = OpenAIParameters.ToEngineRequest(body, maxTokens, vocab, wantLogProbs, logprobs, i);
                requests.Add(p.Tokens is { } ids ? r with { PromptTokens = ids } : r with { Prompt = p.Text });
            }
        using var run = await GenerationRun.StartAsync(lease.Model.Engine, requests, context, metrics, n);
        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string Echo(int choice) => body.Echo == true ? prompts[choice / n].Text ?? tokenizer.Decode([.. prompts[choice / n].Tokens!]) : "";

        if (body.Stream == true)
        {
            await ServerSentEvents.StartAsync(context.Response);
            int promptTokens = 0, completionTokens = 0, cachedTokens = 0;
            for (int i = 0; i < run.Count; i++)
            {
                if (body.Echo == true)
                    await ServerSentEvents.WriteAsync(context.Response, Chunk(id, created, lease.Name, new CompletionChoice(Echo(i), i, null, null)));
                await foreach (var u in run.ReadAsync(i, context.RequestAborted))
                {
                    if (u.IsFinal)
                    {
                        if (i % n == 0) (promptTokens, cachedTokens) = (promptTokens + u.Usage!.PromptTokens, cachedTokens + u.Usage.CachedPromptTokens);
                        completionTokens += u.Usage!.CompletionTokens;
                    }
                    var lp = wantLogProbs && !u.IsFinal ? LogProbs(tokenizer, [u], 0) : null;
                    string? finish = u.IsFinal ? GenerationRun.FinishText(u.FinishReason!.Value) : null;
                    await ServerSentEvents.WriteAsync(context.Response, Chunk(id, created, lease.Name, new CompletionChoice(u.Text, i, lp, finish)));
                }
            }
            if (body.StreamOptions?.IncludeUsage == true)
                await ServerSentEvents.WriteAsync(context.Response, new CompletionResponse(id, created, lease.Name, [], OpenAIUsage.Of(promptTokens, completionTokens, cachedTokens)));
            await ServerSentEvents.DoneAsync(context.Response);
            return;
        }

        var choices = new List<CompletionChoice>();
        int prompt = 0, completion = 0, cached = 0;
        for (int i = 0; i < run.Count; i++)
        {
            var r = await run.CollectAsync(i, context.RequestAborted);
            if (i % n == 0) (prompt, cached) = (prompt + r.Usage.PromptTokens, cached + r.Usage.CachedPromptTokens);
            completion += r.Usage.CompletionTokens;
            string echo = Echo(i);
            choices.Add(new CompletionChoice(echo + r.Text, i, wantLogProbs ? LogProbs(tokenizer, r.Tokens, echo.Length) : null, GenerationRun.FinishText(r.FinishReason)));
        }
        await context.Response.WriteAsJsonAsync(new CompletionResponse(id, created, lease.Name, choices, OpenAIUsage.Of(prompt, completion, cached)),
            ServerJson.Options, context.RequestAborted);
    }

    private static CompletionResponse Chunk(string id, long created, string model, CompletionChoice choice) => new(id, created, model, [choice], null);

    private static CompletionLogProbs LogProbs(Tokenizer tokenizer, IReadOnlyList<EngineUpdate> tokens, int offset)
    {
        var pieces = new List<string>();
        var own = new List<float>();
        var top = new List<Dictionary<string, float>>();
        var offsets = new List<int>();
        foreach (var u in tokens)
        {
            string piece = TokenText.Piece(tokenizer, u.TokenId);
            pieces.Add(piece);
            own.Add(u.LogProb?.LogProb ?? 0f);
            var alternatives = new Dictionary<string, float>();
            foreach (var t in u.TopLogProbs ?? []) alternatives.TryAdd(TokenText.Piece(tokenizer, t.Id), t.LogProb);
            top.Add(alternatives);
            offsets.Add(offset);
            offset += piece.Length;
        }
        return new CompletionLogProbs(pieces, own, top, offsets);
    }

    private sealed record PromptInput(string? Text, int[]? Tokens);

    private static List<PromptInput> ReadPrompts(JsonElement? prompt)
    {
        const string Expected = "'prompt' must be a string, an array of strings, an array of token ids, or an array of such arrays.";
        if (prompt is not { } e || e.ValueKind == JsonValueKind.Null) throw ApiException.Missing("prompt");
        if (e.ValueKind == JsonValueKind.String) return [new PromptInput(e.GetString(), null)];
        if (e.ValueKind != JsonValueKind.Array) throw ApiException.InvalidParameter("prompt", Expected);
        var items = e.EnumerateArray().ToList();
        if (items.Count == 0) throw ApiException.InvalidParameter("prompt", "'prompt' must not be an empty array.");
        if (items.All(x => x.ValueKind == JsonValueKind.Number)) return [new PromptInput(null, Ids(items))];
        var prompts = new List<PromptInput>();
        foreach (var x in items)
        {
            if (x.ValueKind == JsonValueKind.String) prompts.Add(new PromptInput(x.GetString(), null));
            else if (x.ValueKind == JsonValueKind.Array && x.EnumerateArray().All(y => y.ValueKind == JsonValueKind.Number))
                prompts.Add(new PromptInput(null, Ids([.. x.EnumerateArray()])));
            else throw ApiException.InvalidParameter("prompt", Expected);
        }
        if (prompts.Count > OpenAIParameters.MaxChoices) throw ApiException.InvalidParameter("prompt", $"At most {OpenAIParameters.MaxChoices} prompts per request.");
        return prompts;
    }

    private static int[] Ids(List<JsonElement> items) =>
        [.. items.Select(x => x.TryGetInt32(out int id) && id >= 0 ? id : throw ApiException.InvalidParameter("prompt", "Token ids must be non-negative integers."))];
}
