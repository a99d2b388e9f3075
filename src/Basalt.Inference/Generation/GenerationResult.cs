using Basalt.Inference.Sampling;

namespace Basalt.Inference.Generation;

/// <summary>The outcome of one generation, with timings split as llama.cpp reports them.</summary>
public sealed record GenerationResult
{
    public required int[] PromptTokens { get; init; }
    public required IReadOnlyList<int> Tokens { get; init; }
    public required string Text { get; init; }
    public required FinishReason FinishReason { get; init; }
    public required double PromptMilliseconds { get; init; }
    public required double GenerationMilliseconds { get; init; }
    public IReadOnlyList<IReadOnlyList<TokenLogProb>>? LogProbs { get; init; }

    /// <summary>Prompt tokens taken from the sequence's cache rather than run through the model (<see cref="GenerationOptions.ReuseCachedPrefix"/>).</summary>
    public int CachedPromptTokens { get; init; }

    /// <summary>Prompt tokens run through the model per second.</summary>
    public double PromptTokensPerSecond => PromptMilliseconds > 0 ? (PromptTokens.Length - CachedPromptTokens) * 1000.0 / PromptMilliseconds : 0;

    /// <summary>Generated tokens per second (the first token's forward pass counts as prompt time).</summary>
    public double GenerationTokensPerSecond => GenerationMilliseconds > 0 && Tokens.Count > 1 ? (Tokens.Count - 1) * 1000.0 / GenerationMilliseconds : 0;
}
