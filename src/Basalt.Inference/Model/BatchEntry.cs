namespace Basalt.Inference.Model;

/// <summary>One token of a forward batch: whose cache it goes into, at which position, and whether its logits are wanted.</summary>
/// <param name="Cache">The KV cache of the token's sequence.</param>
/// <param name="Token">Token id.</param>
/// <param name="Position">Position in its sequence (its cache slot).</param>
/// <param name="WantLogits">Whether to compute the logits after this token.</param>
public readonly record struct BatchEntry(KvCache Cache, int Token, int Position, bool WantLogits);
