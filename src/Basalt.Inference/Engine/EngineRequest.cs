using Basalt.Inference.Sampling;

namespace Basalt.Inference.Engine;

/// <summary>
/// One generation to run: a prompt (text, or token ids when <see cref="PromptTokens"/> is set),
/// how to sample, and when to stop. A plain value: it crosses from the caller to the loop unchanged.
/// </summary>
public sealed record EngineRequest
{
    /// <summary>Prompt text, tokenized with <see cref="AddSpecial"/> and <see cref="ParseSpecial"/>; ignored when <see cref="PromptTokens"/> is set.</summary>
    public string? Prompt { get; init; }

    /// <summary>Prompt token ids, used as they are.</summary>
    public IReadOnlyList<int>? PromptTokens { get; init; }

    /// <summary>Whether BOS/EOS are added to prompt text as the vocabulary asks.</summary>
    public bool AddSpecial { get; init; } = true;

    /// <summary>Whether special-token text in the prompt becomes special tokens.</summary>
    public bool ParseSpecial { get; init; } = true;

    /// <summary>Sampling settings; each request gets its own chain.</summary>
    public SamplerOptions Sampling { get; init; } = new();

    /// <summary>Most tokens to generate; null = until the context is full.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Texts that end generation; the stop text is not emitted.</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];

    /// <summary>Whether each token's own log-probability is reported.</summary>
    public bool LogProbs { get; init; }

    /// <summary>How many most likely alternatives are reported per token (0 = none).</summary>
    public int TopLogProbs { get; init; }

    /// <summary>
    /// Who may share computed prompt tokens with this request: it reuses (and leaves) cached tokens only among
    /// requests of the same scope, so one client cannot learn from timing or cached-token counts what another sent.
    /// Null: the shared scope of every request without one.
    /// </summary>
    public string? CacheScope { get; init; }
}
