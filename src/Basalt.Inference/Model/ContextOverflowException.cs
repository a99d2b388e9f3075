namespace Basalt.Inference.Model;

/// <summary>A prompt (or prompt plus generation) longer than the context window.</summary>
public sealed class ContextOverflowException(int requested, int capacity)
    : Exception($"The sequence needs {requested} tokens but the context holds {capacity}; shorten the prompt or raise the context length.")
{
    /// <summary>Tokens the operation needed.</summary>
    public int Requested { get; } = requested;

    /// <summary>Tokens the context holds.</summary>
    public int Capacity { get; } = capacity;
}
