using System.Text.Json;
using System.Text.Json.Serialization;

namespace Basalt.Server.Ollama;

// Wire DTOs of the Ollama API (/api/chat, /api/generate, /api/tags, /api/show), spelled as its reference spells them.

internal sealed class OllamaChatRequest
{
    public string? Model { get; set; }
    public List<OllamaMessage>? Messages { get; set; }
    public bool? Stream { get; set; }
    public OllamaOptions? Options { get; set; }
}

internal sealed class OllamaGenerateRequest
{
    public string? Model { get; set; }
    public string? Prompt { get; set; }
    public string? System { get; set; }
    public bool? Raw { get; set; }
    public bool? Stream { get; set; }
    public OllamaOptions? Options { get; set; }
}

internal sealed class OllamaShowRequest
{
    public string? Model { get; set; }

    /// <summary>The older spelling of <see cref="Model"/>.</summary>
    public string? Name { get; set; }
}

internal sealed record OllamaMessage(string? Role, string? Content);

/// <summary>The <c>options</c> object: llama.cpp-style sampling settings.</summary>
internal sealed class OllamaOptions
{
    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public int? TopK { get; set; }
    public float? MinP { get; set; }
    public int? NumPredict { get; set; }
    public List<string>? Stop { get; set; }
    public long? Seed { get; set; }
    public float? RepeatPenalty { get; set; }
    public int? RepeatLastN { get; set; }
    public float? PresencePenalty { get; set; }
    public float? FrequencyPenalty { get; set; }

    /// <summary>Options this server does not act on (num_ctx, num_thread, …) are accepted and ignored, as Ollama ignores unknown ones.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

/// <summary>One line of a chat stream, or the whole non-streamed answer; the timing fields appear only when done.</summary>
internal sealed record OllamaChatChunk(string Model, string CreatedAt, OllamaMessage Message, bool Done) : OllamaTimings;

/// <summary>One line of a generate stream, or the whole non-streamed answer.</summary>
internal sealed record OllamaGenerateChunk(string Model, string CreatedAt, string Response, bool Done) : OllamaTimings;

/// <summary>The fields Ollama adds to the last object of a generation; durations in nanoseconds.</summary>
internal abstract record OllamaTimings
{
    public string? DoneReason { get; init; }
    public long? TotalDuration { get; init; }
    public long? LoadDuration { get; init; }
    public int? PromptEvalCount { get; init; }
    public long? PromptEvalDuration { get; init; }
    public int? EvalCount { get; init; }
    public long? EvalDuration { get; init; }
}

internal sealed record OllamaTags(IReadOnlyList<OllamaModel> Models);

internal sealed record OllamaModel(string Name, string Model, string ModifiedAt, long Size, string Digest, OllamaModelDetails Details);

internal sealed record OllamaModelDetails(string ParentModel, string Format, string Family, IReadOnlyList<string> Families, string ParameterSize, string QuantizationLevel);

internal sealed record OllamaShowResponse(string Modelfile, string Parameters, string Template, OllamaModelDetails Details,
    IReadOnlyDictionary<string, object?> ModelInfo, IReadOnlyList<string> Capabilities, string ModifiedAt, OllamaBasaltInfo Basalt);

/// <summary>Basalt's own additions to /api/show.</summary>
internal sealed record OllamaBasaltInfo(
    bool Loaded,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? LoadSeconds,
    int LoadCount,
    string Path);

internal sealed record OllamaVersion(string Version);
