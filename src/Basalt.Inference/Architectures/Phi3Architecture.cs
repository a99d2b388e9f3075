using Basalt.Inference.Model;

namespace Basalt.Inference.Architectures;

/// <summary>Phi-3: NeoX RoPE, Q|K|V fused in <c>attn_qkv</c>, gate|up fused in <c>ffn_up</c>.</summary>
internal sealed class Phi3Architecture : LlamaArchitecture
{
    protected override string Name => "phi3";
    protected override RopeStyle Rope => RopeStyle.NeoX;

    protected override LayerWeights LoadLayer(WeightLoader w, ModelConfig c, string p) => new()
    {
        AttnNorm = w.Vector(p + "attn_norm.weight", c.EmbeddingLength),
        Wqkv = w.Require(p + "attn_qkv.weight", c.EmbeddingLength, c.QDim + 2 * c.KvDim),
        Wo = w.Require(p + "attn_output.weight", c.QDim, c.EmbeddingLength),
        FfnNorm = w.Vector(p + "ffn_norm.weight", c.EmbeddingLength),
        GateUp = w.Require(p + "ffn_up.weight", c.EmbeddingLength, 2 * c.FeedForwardLength),
        Down = w.Require(p + "ffn_down.weight", c.FeedForwardLength, c.EmbeddingLength),
    };
}
