namespace Basalt.Inference.Model;

/// <summary>
/// One transformer block's weights. Architectures fill either the separate projections or the fused
/// ones (Phi-3 stores Q|K|V in one matrix and gate|up in another).
/// </summary>
public sealed class LayerWeights
{
    public required float[] AttnNorm { get; init; }          // [n_embd]
    public WeightTensor? Wq { get; init; }                   // [n_head * head_dim, n_embd]
    public WeightTensor? Wk { get; init; }                   // [n_head_kv * head_dim, n_embd]
    public WeightTensor? Wv { get; init; }                   // [n_head_kv * head_dim, n_embd]
    public WeightTensor? Wqkv { get; init; }                 // [(n_head + 2 n_head_kv) * head_dim, n_embd]
    public float[]? Bq { get; init; }                        // [n_head * head_dim]
    public float[]? Bk { get; init; }                        // [n_head_kv * head_dim]
    public float[]? Bv { get; init; }                        // [n_head_kv * head_dim]
    public required WeightTensor Wo { get; init; }           // [n_embd, n_head * head_dim]
    public required float[] FfnNorm { get; init; }           // [n_embd]
    public WeightTensor? Gate { get; init; }                 // [n_ff, n_embd]
    public WeightTensor? Up { get; init; }                   // [n_ff, n_embd]
    public WeightTensor? GateUp { get; init; }               // [2 n_ff, n_embd], gate rows first
    public required WeightTensor Down { get; init; }         // [n_embd, n_ff]
}
