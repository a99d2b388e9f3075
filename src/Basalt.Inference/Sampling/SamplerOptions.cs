namespace Basalt.Inference.Sampling;

/// <summary>
/// Sampling settings for one sequence, with llama.cpp's defaults. Build a chain from them with
/// <see cref="SamplerChain.Create"/>.
/// </summary>
public sealed record SamplerOptions
{
    /// <summary>Softmax temperature; 0 or below means greedy decoding.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep only the K most likely tokens; 0 or below = off.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Nucleus threshold; 1 = off.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Drop tokens below this fraction of the top probability; 0 = off.</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Repeat penalty over the last <see cref="PenaltyLastN"/> tokens; 1 = off.</summary>
    public float RepeatPenalty { get; init; } = 1.0f;

    /// <summary>Subtracted per occurrence in the last <see cref="PenaltyLastN"/> tokens; 0 = off.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Subtracted once for tokens present in the last <see cref="PenaltyLastN"/> tokens; 0 = off.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>How many recent tokens the penalties look at; 0 = off.</summary>
    public int PenaltyLastN { get; init; } = 64;

    /// <summary>Seed for the random draw; null picks a random seed.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Token id → bias added to its logit; negative infinity bans the token.</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }
}
