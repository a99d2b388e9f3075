using Basalt.Tensors.Threading;

namespace Basalt.Inference.Engine;

/// <summary>How an <see cref="InferenceEngine"/> schedules and sizes its sequences.</summary>
public sealed record EngineOptions
{
    /// <summary>Most sequences decoded together in one step; further requests wait in the queue.</summary>
    public int MaxActiveSequences { get; init; } = 8;

    /// <summary>Most requests waiting for a slot; one more is refused with <see cref="EngineBusyException"/>.</summary>
    public int QueueCapacity { get; init; } = 64;

    /// <summary>Tokens each sequence holds (prompt plus generation); null = the model's, at most 4096.</summary>
    public int? ContextLength { get; init; }

    /// <summary>Whether the KV cache is kept in F16 (as llama.cpp does by default).</summary>
    public bool F16Cache { get; init; } = true;

    /// <summary>
    /// Tokens one step puts through the model: every decoding sequence's next token, then as many waiting prompt
    /// tokens as fit (at least <see cref="MinPromptTokensPerStep"/>). Prompts are processed in such chunks alongside
    /// the decoding, so a long prompt delays the other streams by one chunk per step rather than by its whole length.
    /// </summary>
    public int StepTokens { get; init; } = 64;

    /// <summary>Prompt tokens every step takes even when the decoding sequences fill <see cref="StepTokens"/>.</summary>
    public int MinPromptTokensPerStep { get; init; } = 16;

    /// <summary>Threads that split each matrix product; null runs on the loop thread alone. Not owned by the engine.</summary>
    public WorkerPool? Runtime { get; init; }
}
