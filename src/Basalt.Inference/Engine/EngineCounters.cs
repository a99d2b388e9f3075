namespace Basalt.Inference.Engine;

/// <summary>A snapshot of an engine's running totals, for metrics.</summary>
/// <param name="Submitted">Requests accepted into the queue.</param>
/// <param name="Rejected">Requests refused because the queue was full.</param>
/// <param name="Completed">Requests that finished by EOS, stop sequence or length.</param>
/// <param name="Cancelled">Requests cancelled by their caller.</param>
/// <param name="Failed">Requests ended by an error (for example a prompt longer than the context).</param>
/// <param name="PromptTokens">Prompt tokens processed.</param>
/// <param name="GeneratedTokens">Tokens generated.</param>
/// <param name="DecodeSteps">Batched steps run (each: the decoding sequences' next tokens and a chunk of waiting prompts).</param>
/// <param name="CachedPromptTokens">Prompt tokens (of <paramref name="PromptTokens"/>) found already computed in a cached sequence, so not run again.</param>
public readonly record struct EngineCounters(long Submitted, long Rejected, long Completed, long Cancelled, long Failed,
    long PromptTokens, long GeneratedTokens, long DecodeSteps, long CachedPromptTokens);
