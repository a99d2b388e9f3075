namespace Basalt.Inference.Model;

/// <summary>How rotary embeddings pair the elements of a head.</summary>
public enum RopeStyle
{
    /// <summary>Adjacent pairs (2i, 2i+1): Llama as stored in GGUF (the converter permutes Q/K for it).</summary>
    Normal,

    /// <summary>Halves (i, i + d/2): GPT-NeoX, Qwen2, Phi-3, Gemma.</summary>
    NeoX,
}
