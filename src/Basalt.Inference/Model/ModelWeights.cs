namespace Basalt.Inference.Model;

/// <summary>All weights of a model, viewed in the mapped file (norm vectors and biases are copied out as floats).</summary>
public sealed class ModelWeights
{
    public required WeightTensor TokenEmbedding { get; init; }   // [n_vocab, n_embd]
    public required float[] OutputNorm { get; init; }            // [n_embd]
    public required WeightTensor Output { get; init; }           // [n_vocab, n_embd]; the embedding when tied
    public required LayerWeights[] Layers { get; init; }

    /// <summary>Every matrix that takes part in products: the layers' projections and the output.</summary>
    public IEnumerable<WeightTensor> Matrices()
    {
        foreach (var layer in Layers)
        {
            foreach (var w in new[] { layer.Wq, layer.Wk, layer.Wv, layer.Wqkv, layer.Wo, layer.Gate, layer.Up, layer.GateUp, layer.Down })
                if (w is not null) yield return w;
        }
        yield return Output;
    }
}
