using Basalt.Inference.Sampling;

namespace Basalt.Inference.Generation;

/// <summary>One generated token as it streams: its id, the text it completes (possibly empty), and optionally the top log-probs.</summary>
public sealed record GenerationUpdate(int TokenId, string Text, IReadOnlyList<TokenLogProb>? TopLogProbs);
