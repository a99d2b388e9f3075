namespace Basalt.Inference.Generation;

/// <summary>A token and its natural-log probability under the softmax of the raw logits.</summary>
public readonly record struct TokenLogProb(int Id, float LogProb);
