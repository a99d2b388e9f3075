using Basalt.Gguf;

namespace Basalt.Inference.Model;

/// <summary>Hyperparameters of a decoder-only transformer, read from GGUF <c>{arch}.*</c> keys.</summary>
public sealed record ModelConfig
{
    public required string Architecture { get; init; }
    public required int EmbeddingLength { get; init; }
    public required int BlockCount { get; init; }
    public required int HeadCount { get; init; }
    public required int HeadCountKv { get; init; }
    public required int FeedForwardLength { get; init; }
    public required int ContextLength { get; init; }
    public required int VocabSize { get; init; }
    public required int HeadDim { get; init; }
    public required int RopeDimensionCount { get; init; }
    public required float RopeFreqBase { get; init; }
    /// <summary>Linear RoPE scaling: positions are multiplied by this (1 / rope.scaling.factor).</summary>
    public required float RopeFreqScale { get; init; }
    public required float RmsEpsilon { get; init; }
    public required RopeStyle Rope { get; init; }
    public required Activation Activation { get; init; }
    /// <summary>Whether token embeddings are multiplied by sqrt(n_embd) (Gemma).</summary>
    public bool ScaleEmbeddings { get; init; }

    /// <summary>Width of the key (and value) projection: KV heads × head size.</summary>
    public int KvDim => HeadCountKv * HeadDim;

    /// <summary>Width of the query projection.</summary>
    public int QDim => HeadCount * HeadDim;

    /// <summary>Reads the hyperparameters for <paramref name="architecture"/>, with llama.cpp's defaults where keys are optional.</summary>
    public static ModelConfig FromGguf(GgufFile file, string architecture, RopeStyle rope, Activation activation, int vocabSize)
    {
        var md = file.Metadata;
        string p = architecture + ".";
        int Required(string key) => (int)(md.GetInt64(p + key)
            ?? throw new ModelFormatException($"{file.Path}: missing {p}{key}; expected an integer hyperparameter."));
        int embd = Required("embedding_length");
        int heads = Required("attention.head_count");
        if (heads <= 0 || embd <= 0) throw new ModelFormatException($"{file.Path}: embedding_length {embd} and head_count {heads} must be positive.");
        int headsKv = (int)(md.GetInt64(p + "attention.head_count_kv") ?? heads);
        if (headsKv <= 0 || heads % headsKv != 0)
            throw new ModelFormatException($"{file.Path}: head_count {heads} must be a multiple of head_count_kv {headsKv}.");
        int headDim = (int)(md.GetInt64(p + "attention.key_length") ?? embd / heads);
        double scaling = md.GetDouble(p + "rope.scaling.factor") ?? 1.0;
        string? scalingType = md.GetString(p + "rope.scaling.type");
        return new ModelConfig
        {
            Architecture = architecture,
            EmbeddingLength = embd,
            BlockCount = Required("block_count"),
            HeadCount = heads,
            HeadCountKv = headsKv,
            FeedForwardLength = Required("feed_forward_length"),
            ContextLength = Required("context_length"),
            VocabSize = vocabSize,
            HeadDim = headDim,
            RopeDimensionCount = (int)(md.GetInt64(p + "rope.dimension_count") ?? headDim),
            RopeFreqBase = (float)(md.GetDouble(p + "rope.freq_base") ?? 10000.0),
            RopeFreqScale = scalingType is null or "linear" && scaling > 0 ? (float)(1.0 / scaling) : 1f,
            RmsEpsilon = (float)(md.GetDouble(p + "attention.layer_norm_rms_epsilon") ?? 1e-5),
            Rope = rope,
            Activation = activation,
        };
    }
}
