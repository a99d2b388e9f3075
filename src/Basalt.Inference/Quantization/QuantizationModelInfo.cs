using Basalt.Gguf;

namespace Basalt.Inference.Quantization;

/// <summary>The hyperparameters llama.cpp's per-tensor type choice looks at.</summary>
/// <param name="Architecture">The <c>general.architecture</c> value, e.g. <c>llama</c>.</param>
/// <param name="LayerCount">Number of transformer blocks.</param>
/// <param name="HeadCount">Attention (query) heads.</param>
/// <param name="HeadCountKv">Key/value heads (equal to <paramref name="HeadCount"/> without grouped-query attention).</param>
/// <param name="ExpertCount">Experts per MoE layer (0 for a dense model).</param>
public sealed record QuantizationModelInfo(string Architecture, int LayerCount, int HeadCount, int HeadCountKv, int ExpertCount = 0)
{
    /// <summary>Query heads per key/value head (llama.cpp's <c>n_gqa</c>).</summary>
    public int GroupSize => HeadCountKv > 0 ? HeadCount / HeadCountKv : HeadCount;

    /// <summary>
    /// Whether llama.cpp classes the model as 70B, which gets a larger attn_v type: 80 layers, except an 80-layer
    /// Llama without grouped-query attention (the 65B).
    /// </summary>
    public bool Is70B => LayerCount == 80 && !(Architecture == "llama" && HeadCount == HeadCountKv);

    /// <summary>Reads the values from a model's metadata (per-layer head-count arrays use their first entry).</summary>
    public static QuantizationModelInfo FromMetadata(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        string arch = metadata.GetString("general.architecture") ?? throw new ArgumentException("The model has no general.architecture.", nameof(metadata));
        int layers = (int)(metadata.GetInt64($"{arch}.block_count") ?? 0);
        int heads = ReadCount(metadata, $"{arch}.attention.head_count");
        int headsKv = metadata.Contains($"{arch}.attention.head_count_kv") ? ReadCount(metadata, $"{arch}.attention.head_count_kv") : heads;
        int experts = (int)(metadata.GetInt64($"{arch}.expert_count") ?? 0);
        return new QuantizationModelInfo(arch, layers, heads, headsKv, experts);
    }

    private static int ReadCount(GgufMetadata metadata, string key)
    {
        if (metadata.GetInt64(key) is { } v) return (int)v;
        if (metadata.GetArray(key) is { } array && array.Values.Length > 0) return Convert.ToInt32(array.Values.GetValue(0));
        return 0;
    }
}
