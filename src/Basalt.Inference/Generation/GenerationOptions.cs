namespace Basalt.Inference.Generation;

/// <summary>Limits and extras of one generation; sampling itself is the picker's business.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate.</summary>
    public int MaxTokens { get; init; } = 128;

    /// <summary>Texts that end generation; the stop text is not emitted.</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];

    /// <summary>How many top log-probs to report per generated token (0 = none).</summary>
    public int TopLogProbs { get; init; }

    /// <summary>Whether BOS/EOS are added as the vocabulary asks.</summary>
    public bool AddSpecial { get; init; } = true;

    /// <summary>Whether special-token text in the prompt becomes special tokens.</summary>
    public bool ParseSpecial { get; init; } = true;

    /// <summary>
    /// Whether the tokens the sequence already holds that begin the prompt are kept, so that only the rest of the prompt
    /// goes through the model (a chat's next turn repeats the conversation so far); the sequence's other tokens are
    /// dropped. Without it the prompt is appended to whatever the sequence holds.
    /// </summary>
    public bool ReuseCachedPrefix { get; init; }
}
