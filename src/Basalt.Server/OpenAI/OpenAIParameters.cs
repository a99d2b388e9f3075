using System.Globalization;
using System.Text.Json;
using Basalt.Inference.Engine;
using Basalt.Inference.Sampling;
using Basalt.Server.Errors;

namespace Basalt.Server.OpenAI;

/// <summary>Checks the shared OpenAI parameters and turns them into engine requests, naming any parameter that is wrong.</summary>
internal static class OpenAIParameters
{
    public const int MaxChoices = 16;

    public static string RequireModel(OpenAIRequestBase r) =>
        string.IsNullOrWhiteSpace(r.Model) ? throw ApiException.Missing("model") : r.Model;

    /// <summary>The engine request for choice <paramref name="choice"/>; prompt fields are left for the caller.</summary>
    public static EngineRequest ToEngineRequest(OpenAIRequestBase r, int? maxTokens, int vocabSize, bool logProbs, int topLogProbs, int choice)
    {
        Range("temperature", r.Temperature, 0, 2);
        Range("top_p", r.TopP, 0, 1);
        Range("frequency_penalty", r.FrequencyPenalty, -2, 2);
        Range("presence_penalty", r.PresencePenalty, -2, 2);
        Range("min_p", r.MinP, 0, 1);
        Range("repeat_penalty", r.RepeatPenalty, 0, 10);
        if (r.TopK < 0) throw ApiException.InvalidParameter("top_k", $"'top_k' must be 0 (off) or more; got {r.TopK}.");
        var sampling = new SamplerOptions
        {
            // OpenAI's defaults, not llama.cpp's: temperature 1, no top-p/top-k/min-p cut unless asked.
            Temperature = r.Temperature ?? 1f,
            TopP = r.TopP ?? 1f,
            TopK = r.TopK ?? 0,
            MinP = r.MinP ?? 0f,
            RepeatPenalty = r.RepeatPenalty ?? 1f,
            FrequencyPenalty = r.FrequencyPenalty ?? 0f,
            PresencePenalty = r.PresencePenalty ?? 0f,
            // Each choice gets its own stream of draws, still reproducible from the one seed.
            Seed = r.Seed is long s ? unchecked((ulong)s + (ulong)choice) : null,
            LogitBias = LogitBias(r.LogitBias, vocabSize),
        };
        return new EngineRequest
        {
            Sampling = sampling,
            MaxTokens = maxTokens,
            StopSequences = Stops(r.Stop),
            LogProbs = logProbs,
            TopLogProbs = topLogProbs,
        };
    }

    public static int Choices(int? n) => n switch
    {
        null => 1,
        >= 1 and <= MaxChoices => n.Value,
        _ => throw ApiException.InvalidParameter("n", $"'n' must be between 1 and {MaxChoices}; got {n}."),
    };

    public static int? MaxTokens(int? value, string param) => value switch
    {
        null => null,
        >= 1 => value,
        _ => throw ApiException.InvalidParameter(param, $"'{param}' must be at least 1; got {value}."),
    };

    public static IReadOnlyList<string> Stops(JsonElement? stop)
    {
        if (stop is not { } e || e.ValueKind == JsonValueKind.Null) return [];
        if (e.ValueKind == JsonValueKind.String) return [e.GetString()!];
        if (e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String))
        {
            var stops = e.EnumerateArray().Select(x => x.GetString()!).ToList();
            if (stops.Count > 4) throw ApiException.InvalidParameter("stop", $"'stop' holds at most 4 sequences; got {stops.Count}.");
            return stops;
        }
        throw ApiException.InvalidParameter("stop", "'stop' must be a string or an array of strings.");
    }

    private static Dictionary<int, float>? LogitBias(Dictionary<string, float>? bias, int vocabSize)
    {
        if (bias is null) return null;
        var result = new Dictionary<int, float>();
        foreach (var (key, value) in bias)
        {
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int id) || id >= vocabSize)
                throw ApiException.InvalidParameter("logit_bias", $"'logit_bias' keys must be token ids from 0 to {vocabSize - 1}; got '{key}'.");
            if (value is < -100 or > 100)
                throw ApiException.InvalidParameter("logit_bias", $"'logit_bias' values must be between -100 and 100; got {value} for {id}.");
            // As OpenAI documents: -100 bans the token outright.
            result[id] = value <= -100 ? float.NegativeInfinity : value;
        }
        return result;
    }

    private static void Range(string param, float? value, float min, float max)
    {
        if (value is float v && (float.IsNaN(v) || v < min || v > max))
            throw ApiException.InvalidParameter(param, $"'{param}' must be between {min} and {max}; got {v.ToString(CultureInfo.InvariantCulture)}.");
    }
}
