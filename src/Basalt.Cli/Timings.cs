using System.Globalization;
using Basalt.Inference.Generation;

namespace Basalt.Cli;

/// <summary>How commands word finish reasons and speeds.</summary>
internal static class Timings
{
    public static string FinishReasonText(FinishReason reason) => reason switch
    {
        FinishReason.Length => "length",
        FinishReason.Stop => "stop",
        FinishReason.Eos => "eos",
        _ => "cancelled",
    };

    public static string Summary(GenerationResult r) => string.Create(CultureInfo.InvariantCulture,
        $"[{r.PromptTokens.Length} prompt tokens at {r.PromptTokensPerSecond:F1} tok/s, {r.Tokens.Count} generated at {r.GenerationTokensPerSecond:F1} tok/s, finish: {FinishReasonText(r.FinishReason)}]");
}
