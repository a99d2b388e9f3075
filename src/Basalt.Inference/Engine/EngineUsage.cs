namespace Basalt.Inference.Engine;

/// <summary>What one request cost: tokens in and out, and where its time went.</summary>
/// <param name="PromptTokens">Tokens in the prompt.</param>
/// <param name="CompletionTokens">Tokens generated (an end-of-generation token is not counted).</param>
/// <param name="QueueTime">Time waiting for a slot.</param>
/// <param name="PromptTime">Time to process the prompt.</param>
/// <param name="GenerationTime">Time from the end of the prompt to the last token.</param>
public sealed record EngineUsage(int PromptTokens, int CompletionTokens, TimeSpan QueueTime, TimeSpan PromptTime, TimeSpan GenerationTime)
{
    /// <summary>Prompt tokens (of <see cref="PromptTokens"/>) taken from a cached sequence rather than run through the model.</summary>
    public int CachedPromptTokens { get; init; }

    /// <summary>Prompt plus completion tokens.</summary>
    public int TotalTokens => PromptTokens + CompletionTokens;
}
