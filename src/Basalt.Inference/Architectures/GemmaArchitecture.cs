using Basalt.Gguf;
using Basalt.Inference.Model;

namespace Basalt.Inference.Architectures;

/// <summary>
/// Gemma: NeoX RoPE, GeGLU, embeddings scaled by sqrt(n_embd), output tied to the embedding. The
/// converter already stores its RMSNorm weights as (1 + w), so the norm is the plain one.
/// </summary>
internal sealed class GemmaArchitecture : LlamaArchitecture
{
    protected override string Name => "gemma";
    protected override RopeStyle Rope => RopeStyle.NeoX;
    protected override Activation Activation => Activation.Gelu;

    public override ModelConfig ReadConfig(GgufFile file, int vocabSize) => base.ReadConfig(file, vocabSize) with { ScaleEmbeddings = true };
}
