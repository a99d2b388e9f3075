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

    /// <summary>
    /// Whether the client keeps its sequence between requests, so that a request starting with the tokens it holds (a
    /// chat's next turn) runs only the rest (default: on). The kept tokens are one conversation's, whoever sent it: a
    /// client shared by several users lets one learn, from <c>CachedInputTokenCount</c> or from timing, how much of
    /// its prompt matches the request before; turn this off there, or give each user a client. Off, every request
    /// starts from an empty cache.
    /// </summary>
    public bool ReuseCachedPrefix { get; init; } = true;
}
