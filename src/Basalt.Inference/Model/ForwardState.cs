namespace Basalt.Inference.Model;

/// <summary>Activation buffers for one token through the network, allocated once per sequence and reused.</summary>
internal sealed class ForwardState
{
    public ForwardState(ModelConfig c)
    {
        X = new float[c.EmbeddingLength];
        Xb = new float[Math.Max(c.EmbeddingLength, c.QDim)];
        Q = new float[c.QDim];
        K = new float[c.KvDim];
        V = new float[c.KvDim];
        Qkv = new float[c.QDim + 2 * c.KvDim];
        Attention = new float[c.QDim];
        Scores = new float[c.ContextLength];
        Head = new float[c.HeadDim];
        Gate = new float[2 * c.FeedForwardLength];
        Up = new float[c.FeedForwardLength];
        Logits = new float[c.VocabSize];
        MaxInputWidth = Math.Max(Math.Max(c.EmbeddingLength, c.FeedForwardLength), c.QDim);
    }

    public float[] X { get; }          // [n_embd] residual stream
    public float[] Xb { get; }         // [max(n_embd, q_dim)] normed input / projection output
    public float[] Q { get; }          // [n_head * head_dim]
    public float[] K { get; }          // [n_head_kv * head_dim]
    public float[] V { get; }          // [n_head_kv * head_dim]
    public float[] Qkv { get; }        // [q_dim + 2 kv_dim] fused projection output
    public float[] Attention { get; }  // [n_head * head_dim] attention output before W_o
    public float[] Scores { get; }     // [n_ctx] one head's attention scores
    public float[] Head { get; }       // [head_dim] one cached key or value
    public float[] Gate { get; }       // [2 n_ff] gate (or fused gate|up) activations
    public float[] Up { get; }         // [n_ff]
    public float[] Logits { get; }     // [n_vocab]
    public int MaxInputWidth { get; }  // widest input of any matrix product
}
