using System.Text.Json;
using System.Text.Json.Serialization;

namespace Basalt.Server.OpenAI.Chat;

// Wire DTOs of POST /v1/chat/completions, spelled as the OpenAI API reference spells them.

internal sealed class ChatCompletionRequest : OpenAIRequestBase
{
    public List<ChatMessageDto>? Messages { get; set; }
    public int? MaxCompletionTokens { get; set; }
    public bool? Logprobs { get; set; }
    public int? TopLogprobs { get; set; }
}

internal sealed class ChatMessageDto
{
    public string? Role { get; set; }

    /// <summary>A string, or an array of content parts of which only <c>text</c> parts are understood.</summary>
    public JsonElement? Content { get; set; }

    public string? Name { get; set; }
}

internal sealed record ChatCompletionResponse(string Id, long Created, string Model, IReadOnlyList<ChatChoice> Choices, OpenAIUsage Usage)
{
    public string Object => "chat.completion";
    public string SystemFingerprint => "basalt";
}

internal sealed record ChatChoice(
    int Index,
    ChatResponseMessage Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ChatLogProbs? Logprobs,
    string FinishReason);

internal sealed record ChatResponseMessage(string Role, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Content);

internal sealed record ChatLogProbs(IReadOnlyList<ChatTokenLogProb> Content);

internal sealed record ChatTokenLogProb(string Token, float Logprob, int[] Bytes, IReadOnlyList<ChatTopLogProb> TopLogprobs);

internal sealed record ChatTopLogProb(string Token, float Logprob, int[] Bytes);

internal sealed record ChatCompletionChunk(string Id, long Created, string Model, IReadOnlyList<ChatChunkChoice> Choices, OpenAIUsage? Usage = null)
{
    public string Object => "chat.completion.chunk";
    public string SystemFingerprint => "basalt";
}

internal sealed record ChatChunkChoice(
    int Index,
    ChatDelta Delta,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ChatLogProbs? Logprobs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason);

internal sealed record ChatDelta(string? Role, string? Content);
