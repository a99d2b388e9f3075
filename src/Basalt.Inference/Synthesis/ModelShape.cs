namespace Basalt.Inference.Synthesis;

/// <summary>
/// The hyperparameters of a Llama-architecture model, enough to write a random-weight GGUF of that shape: one that
/// loads and runs like the real model (same tensor sizes, so the same speed) but produces gibberish.
/// </summary>
/// <param name="Name">The shape's name, written to <c>general.name</c>.</param>
/// <param name="EmbeddingLength">Hidden size (n_embd).</param>
/// <param name="LayerCount">Transformer blocks.</param>
/// <param name="HeadCount">Query heads.</param>
/// <param name="HeadCountKv">Key/value heads.</param>
/// <param name="FeedForwardLength">FFN hidden size (n_ff).</param>
/// <param name="VocabularySize">Token count; must equal the vocabulary source's.</param>
/// <param name="ContextLength">Training context length.</param>
/// <param name="RopeFreqBase">RoPE base frequency.</param>
/// <param name="RmsNormEpsilon">RMSNorm epsilon.</param>
/// <param name="TiedEmbeddings">Whether the output projection reuses token_embd (no output.weight tensor).</param>
/// <param name="VocabularyFile">
/// A GGUF whose <c>tokenizer.*</c> keys are copied, relative to the shared test data folder when not rooted.
/// </param>
public sealed record ModelShape(
    string Name,
    int EmbeddingLength,
    int LayerCount,
    int HeadCount,
    int HeadCountKv,
    int FeedForwardLength,
    int VocabularySize,
    int ContextLength,
    float RopeFreqBase,
    float RmsNormEpsilon,
    bool TiedEmbeddings,
    string VocabularyFile)
{
    /// <summary>Per-head dimension (n_embd / n_head).</summary>
    public int HeadDimension => EmbeddingLength / HeadCount;

    /// <summary>Width of the K and V projections.</summary>
    public int KvDimension => HeadDimension * HeadCountKv;

    /// <summary>Number of weights, norms included.</summary>
    public long ParameterCount =>
        (long)EmbeddingLength * VocabularySize * (TiedEmbeddings ? 1 : 2) + EmbeddingLength
        + (long)LayerCount * (2L * EmbeddingLength * EmbeddingLength + 2L * EmbeddingLength * KvDimension
            + 3L * EmbeddingLength * FeedForwardLength + 2L * EmbeddingLength);

    /// <summary>Throws when the numbers cannot describe a Llama model.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name)) throw new ArgumentException("A shape needs a name.");
        if (EmbeddingLength <= 0 || LayerCount <= 0 || HeadCount <= 0 || HeadCountKv <= 0 || FeedForwardLength <= 0
            || VocabularySize <= 0 || ContextLength <= 0)
            throw new ArgumentException($"Shape '{Name}' has a non-positive dimension.");
        if (EmbeddingLength % HeadCount != 0) throw new ArgumentException($"Shape '{Name}': n_embd {EmbeddingLength} is not a multiple of n_head {HeadCount}.");
        if (HeadCount % HeadCountKv != 0) throw new ArgumentException($"Shape '{Name}': n_head {HeadCount} is not a multiple of n_head_kv {HeadCountKv}.");
        if (HeadDimension % 2 != 0) throw new ArgumentException($"Shape '{Name}': RoPE needs an even head dimension, not {HeadDimension}.");
    }
}
