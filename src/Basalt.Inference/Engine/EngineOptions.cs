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

    /// <summary>Threads that split each matrix product; null runs on the loop thread alone. Not owned by the engine.</summary>
    public WorkerPool? Runtime { get; init; }
}
