using Basalt.Gguf;
using Basalt.Inference.Model;

namespace Basalt.Inference.Architectures;

/// <summary>Llama 2/3, Mistral, TinyLlama, SmolLM: RMSNorm, RoPE on adjacent pairs, SwiGLU, optional tied output.</summary>
internal class LlamaArchitecture : IArchitecture
{
    protected virtual string Name => "llama";
    protected virtual RopeStyle Rope => RopeStyle.Normal;
    protected virtual Activation Activation => Activation.Silu;

    public virtual ModelConfig ReadConfig(GgufFile file, int vocabSize) => ModelConfig.FromGguf(file, Name, Rope, Activation, vocabSize);

    public ModelWeights LoadWeights(GgufFile file, ModelConfig c)
    {
        var w = new WeightLoader(file);
        var embedding = w.Require("token_embd.weight", c.EmbeddingLength, c.VocabSize);
        return new ModelWeights
        {
            TokenEmbedding = embedding,
            OutputNorm = w.Vector("output_norm.weight", c.EmbeddingLength),
            Output = w.Optional("output.weight", c.EmbeddingLength, c.VocabSize) ?? embedding,
            Layers = Enumerable.Range(0, c.BlockCount).Select(i => LoadLayer(w, c, $"blk.{i}.")).ToArray(),
        };
    }

    protected virtual LayerWeights LoadLayer(WeightLoader w, ModelConfig c, string p) => new()
    {
        AttnNorm = w.Vector(p + "attn_norm.weight", c.EmbeddingLength),
        Wq = w.Require(p + "attn_q.weight", c.EmbeddingLength, c.QDim),
        Wk = w.Require(p + "attn_k.weight", c.EmbeddingLength, c.KvDim),
        Wv = w.Require(p + "attn_v.weight", c.EmbeddingLength, c.KvDim),
        Bq = w.OptionalVector(p + "attn_q.bias", c.QDim),
        Bk = w.OptionalVector(p + "attn_k.bias", c.KvDim),
        Bv = w.OptionalVector(p + "attn_v.bias", c.KvDim),
        Wo = w.Require(p + "attn_output.weight", c.QDim, c.EmbeddingLength),
        FfnNorm = w.Vector(p + "ffn_norm.weight", c.EmbeddingLength),
        Gate = w.Require(p + "ffn_gate.weight", c.EmbeddingLength, c.FeedForwardLength),
        Up = w.Require(p + "ffn_up.weight", c.EmbeddingLength, c.FeedForwardLength),
        Down = w.Require(p + "ffn_down.weight", c.FeedForwardLength, c.EmbeddingLength),
    };
}
