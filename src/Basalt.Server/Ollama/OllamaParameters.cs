using Basalt.Inference.Engine;
using Basalt.Inference.Sampling;
using Basalt.Server.Errors;

namespace Basalt.Server.Ollama;

/// <summary>Turns Ollama's <c>options</c> into an engine request; unset options keep llama.cpp's defaults, as Ollama's do.</summary>
internal static class OllamaParameters
{
    public static string RequireModel(string? model) => string.IsNullOrWhiteSpace(model) ? throw ApiException.Missing("model") : model;

    public static EngineRequest ToEngineRequest(OllamaOptions? o, int contextLength)
    {
        var d = new SamplerOptions();
        if (o is null) return new EngineRequest { Sampling = d };
        if (o.Temperature < 0) throw ApiException.InvalidParameter("options.temperature", $"'options.temperature' must be 0 or more; got {o.Temperature}.");
        if (o.TopP is < 0 or > 1) throw ApiException.InvalidParameter("options.top_p", $"'options.top_p' must be between 0 and 1; got {o.TopP}.");
        if (o.MinP is < 0 or > 1) throw ApiException.InvalidParameter("options.min_p", $"'options.min_p' must be between 0 and 1; got {o.MinP}.");
        if (o.RepeatLastN < -1) throw ApiException.InvalidParameter("options.repeat_last_n", $"'options.repeat_last_n' must be -1 or more; got {o.RepeatLastN}.");
        if (o.RepeatPenalty is <= 0 or > 10) throw ApiException.InvalidParameter("options.repeat_penalty", $"'options.repeat_penalty' must be above 0 and at most 10; got {o.RepeatPenalty}.");
        var sampling = new SamplerOptions
        {
            Temperature = o.Temperature ?? d.Temperature,
            TopP = o.TopP ?? d.TopP,
            TopK = o.TopK ?? d.TopK,
            MinP = o.MinP ?? d.MinP,
            RepeatPenalty = o.RepeatPenalty ?? d.RepeatPenalty,
            PenaltyLastN = o.RepeatLastN is -1 ? contextLength : o.RepeatLastN ?? d.PenaltyLastN,
            PresencePenalty = o.PresencePenalty ?? d.PresencePenalty,
            FrequencyPenalty = o.FrequencyPenalty ?? d.FrequencyPenalty,
            Seed = o.Seed is long s and >= 0 ? (ulong)s : null,
        };
        return new EngineRequest
        {
            Sampling = sampling,
            // Negative num_predict (-1 "unlimited", -2 "fill the context") both mean: until the context is full.
            MaxTokens = o.NumPredict is >= 0 ? o.NumPredict : null,
            StopSequences = o.Stop ?? [],
        };
    }
}
