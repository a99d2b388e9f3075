using System.Text.Json;

namespace Basalt.Server.OpenAI;

/// <summary>Fields that /v1/chat/completions and /v1/completions share (wire DTO).</summary>
internal abstract class OpenAIRequestBase
{
    public string? Model { get; set; }
    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public int? MaxTokens { get; set; }
    public JsonElement? Stop { get; set; }
    public long? Seed { get; set; }
    public int? N { get; set; }
    public float? FrequencyPenalty { get; set; }
    public float? PresencePenalty { get; set; }
    public Dictionary<string, float>? LogitBias { get; set; }
    public string? User { get; set; }
    public bool? Stream { get; set; }
    public StreamOptionsDto? StreamOptions { get; set; }

    // llama.cpp-server extras.
    public int? TopK { get; set; }
    public float? MinP { get; set; }
    public float? RepeatPenalty { get; set; }
}

/// <summary><c>stream_options</c>.</summary>
internal sealed class StreamOptionsDto
{
    public bool? IncludeUsage { get; set; }
}
