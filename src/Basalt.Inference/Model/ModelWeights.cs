namespace Basalt.Inference.Model;

/// <summary>All weights of a model, viewed in the mapped file (norm vectors and biases are copied out as floats).</summary>
public sealed class ModelWeights
{
    public required WeightTensor TokenEmbedding { get; init; }   // [n_vocab, n_embd]
    public required float[] OutputNorm { get; init; }            // [n_embd]
    public required WeightTensor Output { get; init; }           // [n_vocab, n_embd]; the embedding when tied
    public required LayerWeights[] Layers { get; init; }
}
