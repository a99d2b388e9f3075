using Basalt.Inference.Generation;
using Basalt.Inference.Model;
using Basalt.Inference.Sampling;

namespace Basalt.Server.Tests;

/// <summary>What the plain in-process generator produces, to compare HTTP answers with.</summary>
internal static class Reference
{
    private static readonly Lazy<TransformerModel> Stories = new(() => TransformerModel.Load(SharedData.Path("models", "stories260K.gguf")));

    public static GenerationResult Greedy(string prompt, int maxTokens, IReadOnlyList<string>? stops = null) =>
        new Generator(Stories.Value).Generate(new Sequence(Stories.Value, 512), prompt,
            SamplerChain.Create(new SamplerOptions { Temperature = 0 }, Stories.Value.Config.VocabSize),
            new GenerationOptions { MaxTokens = maxTokens, StopSequences = stops ?? [] });

    /// <summary>The ChatML prompt the server renders for one user message.</summary>
    public static string ChatPrompt(string user) => $"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n";
}
