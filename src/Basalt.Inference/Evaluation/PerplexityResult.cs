namespace Basalt.Inference.Evaluation;

/// <summary>Perplexity over a text, with the running value after each chunk as llama-perplexity prints it.</summary>
public sealed record PerplexityResult(double Perplexity, int Tokens, int Chunks, int ScoredTokens, double MeanNll, IReadOnlyList<double> RunningPerplexity);
