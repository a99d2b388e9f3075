using Basalt.Inference.Sampling;

namespace Basalt.Inference.Clients;

/// <summary>How a <see cref="LocalChatClient"/> runs its model.</summary>
public sealed record LocalChatClientOptions
{
    /// <summary>Context length of each conversation (default: the model's, at most 4096).</summary>
    public int? ContextLength { get; init; }

    /// <summary>Threads for the forward pass (default: all cores).</summary>
    public int? Threads { get; init; }

    /// <summary>Whether the KV cache is F16 (the default, as llama.cpp) rather than F32.</summary>
    public bool F16Cache { get; init; } = true;

    /// <summary>Sampling used where <c>ChatOptions</c> leaves a value unset.</summary>
    public SamplerOptions DefaultSampling { get; init; } = new();

    /// <summary>Tokens generated when <c>ChatOptions.MaxOutputTokens</c> is unset.</summary>
    public int DefaultMaxOutputTokens { get; init; } = 512;

    /// <summary>A chat template to use instead of the model's own (Jinja text).</summary>
    public string? ChatTemplate { get; init; }
}
