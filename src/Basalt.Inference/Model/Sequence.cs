using System.Numerics.Tensors;
using Basalt.Tensors.Ops;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Model;

/// <summary>
/// One sequence being decoded: its KV cache and activation buffers over a shared model. Feed tokens
/// with <see cref="Process"/>; each call appends them to the cache and returns the logits after the last.
/// This is the plain reference forward pass: one token at a time, top to bottom.
/// </summary>
public sealed class Sequence
{
    private readonly TransformerModel _model;
    private readonly ModelConfig _c;
    private readonly ForwardState _s;
    private readonly KvCache _cache;
    private readonly WorkerPool? _pool;
    private readonly MatVecJob _matVec;

    /// <summary>
    /// Creates a sequence with room for <paramref name="contextLength"/> tokens (default: the model's
    /// context length). Matrix products are split across <paramref name="runtime"/> when given.
    /// </summary>
    public Sequence(TransformerModel model, int? contextLength = null, bool f16Cache = true, WorkerPool? runtime = null)
    {
        _model = model;
        _c = model.Config;
        int n = contextLength ?? _c.ContextLength;
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(contextLength), n, "Context length must be positive.");
        _s = new ForwardState(_c with { ContextLength = n });
        _cache = new KvCache(_c, n, f16Cache);
        _pool = runtime;
        _matVec = new MatVecJob(_s.MaxInputWidth);
    }

    private void MatVec(WeightTensor w, float[] x, float[] y) => _matVec.Run(_pool, w, x, y);

    /// <summary>Tokens in the cache.</summary>
    public int Length => _cache.Length;

    /// <summary>Positions the cache can hold.</summary>
    public int Capacity => _cache.Capacity;

    /// <summary>Forgets every token (the cache is reused).</summary>
    public void Reset() => _cache.Length = 0;

    /// <summary>Drops tokens after the first <paramref name="length"/>.</summary>
    public void Truncate(int length) => _cache.Length = Math.Clamp(length, 0, _cache.Length);

    /// <summary>
    /// Runs <paramref name="tokens"/> through the model at the next positions and returns the logits
    /// after the last one (valid until the next call). When <paramref name="allLogits"/> is given, it
    /// receives the logits after every token ([tokens × n_vocab]).
    /// </summary>
    /// <exception cref="ContextOverflowException">The tokens do not fit in the remaining context.</exception>
    public ReadOnlySpan<float> Process(scoped ReadOnlySpan<int> tokens, scoped Span<float> allLogits = default)
    {
        if (tokens.IsEmpty) throw new ArgumentException("At least one token is needed.", nameof(tokens));
        if (_cache.Length + tokens.Length > _cache.Capacity)
            throw new ContextOverflowException(_cache.Length + tokens.Length, _cache.Capacity);
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)_c.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), tokens[i], $"Token ids must be in 0..{_c.VocabSize - 1}.");
            bool wantLogits = i == tokens.Length - 1 || !allLogits.IsEmpty;
            ForwardToken(tokens[i], _cache.Length, wantLogits);
            _cache.Length++;
            if (!allLogits.IsEmpty) _s.Logits.CopyTo(allLogits.Slice(i * _c.VocabSize, _c.VocabSize));
        }
        return _s.Logits;
    }

    private void ForwardToken(int token, int pos, bool wantLogits)
    {
        var w = _model.Weights;
        var x = _s.X.AsSpan();
        w.TokenEmbedding.ReadRow(token, x);
        if (_c.ScaleEmbeddings) TensorPrimitives.Multiply(x, MathF.Sqrt(_c.EmbeddingLength), x);

        for (int l = 0; l < w.Layers.Length; l++)
        {
            var layer = w.Layers[l];
            var xb = _s.Xb.AsSpan(0, _c.EmbeddingLength);
            VectorOps.RmsNorm(x, layer.AttnNorm, _c.RmsEpsilon, xb);
            ProjectQkv(layer, _s.Xb);
            VectorOps.Rope(_s.Q, _c.HeadDim, _c.RopeDimensionCount, pos, _c.RopeFreqBase, _c.RopeFreqScale, _c.Rope == RopeStyle.NeoX);
            VectorOps.Rope(_s.K, _c.HeadDim, _c.RopeDimensionCount, pos, _c.RopeFreqBase, _c.RopeFreqScale, _c.Rope == RopeStyle.NeoX);
            _cache.Store(l, pos, _s.K, _s.V);
            Attend(l, pos);
            MatVec(layer.Wo, _s.Attention, _s.Xb);
            TensorPrimitives.Add(x, _s.Xb.AsSpan(0, _c.EmbeddingLength), x);

            VectorOps.RmsNorm(x, layer.FfnNorm, _c.RmsEpsilon, xb);
            FeedForward(layer, _s.Xb);
            TensorPrimitives.Add(x, _s.Xb.AsSpan(0, _c.EmbeddingLength), x);
        }

        if (!wantLogits) return;
        VectorOps.RmsNorm(x, w.OutputNorm, _c.RmsEpsilon, _s.Xb.AsSpan(0, _c.EmbeddingLength));
        MatVec(w.Output, _s.Xb, _s.Logits);
    }

    private void ProjectQkv(LayerWeights layer, float[] xb)
    {
        if (layer.Wqkv is { } fused)
        {
            MatVec(fused, xb, _s.Qkv);
            _s.Qkv.AsSpan(0, _c.QDim).CopyTo(_s.Q);
            _s.Qkv.AsSpan(_c.QDim, _c.KvDim).CopyTo(_s.K);
            _s.Qkv.AsSpan(_c.QDim + _c.KvDim, _c.KvDim).CopyTo(_s.V);
        }
        else
        {
            MatVec(layer.Wq!, xb, _s.Q);
            MatVec(layer.Wk!, xb, _s.K);
            MatVec(layer.Wv!, xb, _s.V);
        }
        if (layer.Bq is { } bq) TensorPrimitives.Add(_s.Q, bq, _s.Q);
        if (layer.Bk is { } bk) TensorPrimitives.Add(_s.K, bk, _s.K);
        if (layer.Bv is { } bv) TensorPrimitives.Add(_s.V, bv, _s.V);
    }

    /// <summary>Causal attention of the current query over cached positions 0..pos, grouped-query style.</summary>
    private void Attend(int layer, int pos)
    {
        int hd = _c.HeadDim;
        int group = _c.HeadCount / _c.HeadCountKv;
        float scale = 1f / MathF.Sqrt(hd);
        var scores = _s.Scores.AsSpan(0, pos + 1);
        var cached = _s.Head.AsSpan(0, hd);
        // With an F16 cache ggml multiplies in F16: it rounds the query and the attention weights to
        // F16 too. Doing the same keeps log-probs within a few hundredths of llama.cpp's.
        if (_cache.UsesF16) RoundToHalf(_s.Q);
        for (int h = 0; h < _c.HeadCount; h++)
        {
            var q = _s.Q.AsSpan(h * hd, hd);
            int kvOffset = h / group * hd;
            for (int t = 0; t <= pos; t++)
            {
                _cache.ReadKey(layer, t, kvOffset, cached);
                scores[t] = TensorPrimitives.Dot(q, cached) * scale;
            }
            VectorOps.Softmax(scores);
            if (_cache.UsesF16) RoundToHalf(scores);
            var output = _s.Attention.AsSpan(h * hd, hd);
            output.Clear();
            for (int t = 0; t <= pos; t++)
            {
                _cache.ReadValue(layer, t, kvOffset, cached);
                TensorPrimitives.MultiplyAdd(cached, scores[t], output, output);
            }
        }
    }

    private static void RoundToHalf(Span<float> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(Half)values[i];
    }

    /// <summary>Gated feed-forward: down(act(gate·x) ⊙ up·x), result in Xb.</summary>
    private void FeedForward(LayerWeights layer, float[] xb)
    {
        int ff = _c.FeedForwardLength;
        var gate = _s.Gate.AsSpan(0, ff);
        var up = _s.Up.AsSpan(0, ff);
        if (layer.GateUp is { } fused)
        {
            MatVec(fused, xb, _s.Gate);
            _s.Gate.AsSpan(ff, ff).CopyTo(up);
        }
        else
        {
            MatVec(layer.Gate!, xb, _s.Gate);
            MatVec(layer.Up!, xb, _s.Up);
        }
        if (_c.Activation == Activation.Gelu) VectorOps.Gelu(gate);
        else VectorOps.Silu(gate);
        TensorPrimitives.Multiply(gate, up, gate);
        MatVec(layer.Down, _s.Gate, _s.Xb);
    }
}
