using System.Text.Json;
using System.Text.Json.Serialization;

namespace Basalt.Server.OpenAI.Completions;

// Wire DTOs of POST /v1/completions (the legacy text-completion API).

internal sealed class CompletionRequest : OpenAIRequestBase
{
    /// <summary>A string, an array of strings, an array of token ids, or an array of such arrays.</summary>
    public JsonElement? Prompt { get; set; }

    /// <summary>How many top log-probs per token (0–5 in OpenAI; up to 20 here).</summary>
    public int? Logprobs { get; set; }

    public bool? Echo { get; set; }
}

internal sealed record CompletionResponse(string Id, long Created, string Model, IReadOnlyList<CompletionChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] OpenAIUsage? Usage)
{
    public string Object => "text_completion";
    public string SystemFingerprint => "basalt";
}

internal sealed record CompletionChoice(
    string Text,
    int Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] CompletionLogProbs? Logprobs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason);

internal sealed record CompletionLogProbs(
    IReadOnlyList<string> Tokens,
    IReadOnlyList<float> TokenLogprobs,
    IReadOnlyList<Dictionary<string, float>> TopLogprobs,
    IReadOnlyList<int> TextOffset);
