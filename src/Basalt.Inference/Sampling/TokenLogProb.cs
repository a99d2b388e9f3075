namespace Basalt.Inference.Sampling;

/// <summary>A token and its natural-log probability under the model's raw distribution.</summary>
/// <param name="Id">The token id.</param>
/// <param name="LogProb">ln p, at most 0.</param>
public readonly record struct TokenLogProb(int Id, float LogProb);
