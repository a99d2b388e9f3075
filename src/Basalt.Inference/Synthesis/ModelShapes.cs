namespace Basalt.Inference.Synthesis;

/// <summary>Named shapes of real models, for benchmarks that need the real sizes but not the real weights.</summary>
public static class ModelShapes
{
    /// <summary>TinyLlama 1.1B (Llama 2 architecture and 32000-token SentencePiece vocabulary, GQA 32/4).</summary>
    public static ModelShape TinyLlama1_1B { get; } = new(
        "tinyllama-1.1b", EmbeddingLength: 2048, LayerCount: 22, HeadCount: 32, HeadCountKv: 4, FeedForwardLength: 5632,
        VocabularySize: 32000, ContextLength: 2048, RopeFreqBase: 10000f, RmsNormEpsilon: 1e-5f, TiedEmbeddings: false,
        VocabularyFile: Path.Combine("testdata", "tokenizers", "ggml-vocab-llama-spm.gguf"));

    /// <summary>
    /// SmolLM 135M (Llama architecture, 576 wide, 30 layers, GQA 9/3, tied embeddings). Its 49152-token vocabulary is
    /// stood in for by StarCoder's, which has the same size; 576 is not a multiple of 256, so k-quant presets fall
    /// back to 32-element types on most matrices, as they do for the real model.
    /// </summary>
    public static ModelShape SmolLM135M { get; } = new(
        "smollm-135m", EmbeddingLength: 576, LayerCount: 30, HeadCount: 9, HeadCountKv: 3, FeedForwardLength: 1536,
        VocabularySize: 49152, ContextLength: 2048, RopeFreqBase: 10000f, RmsNormEpsilon: 1e-5f, TiedEmbeddings: true,
        VocabularyFile: Path.Combine("testdata", "tokenizers", "ggml-vocab-starcoder.gguf"));

    /// <summary>Every named shape.</summary>
    public static IReadOnlyList<ModelShape> All { get; } = [TinyLlama1_1B, SmolLM135M];

    /// <summary>The shape called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static ModelShape? Find(string name) => All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
}
