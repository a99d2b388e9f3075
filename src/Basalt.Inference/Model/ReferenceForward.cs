using System.Numerics.Tensors;
using Basalt.Tensors.Ops;

namespace Basalt.Inference.Model;

/// <summary>
/// The plain forward pass, one token at a time, top to bottom, on the scalar reference kernels.
/// It is the yardstick the fast batched pass (<see cref="BatchForward"/>) is tested against, and the
/// place to read what the network computes.
/// </summary>
internal sealed class ReferenceForward(TransformerModel model, int contextLength)
{
    private readonly TransformerModel _model = model;
    private readonly ModelConfig _c = model.Config;
    private readonly ForwardState _s = new(model.Config with { ContextLength = contextLength });

    private static void MatVec(WeightTensor w, float[] x, float[] y) => w.MatVecReference(x, y);

    public float[] ForwardToken(KvCache cache, int token, int pos)
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
            cache.Store(l, pos, _s.K, _s.V);
            Attend(cache, l, pos);
            MatVec(layer.Wo, _s.Attention, _s.Xb);
            TensorPrimitives.Add(x, _s.Xb.AsSpan(0, _c.EmbeddingLength), x);

            VectorOps.RmsNorm(x, layer.FfnNorm, _c.RmsEpsilon, xb);
            FeedForward(layer, _s.Xb);
            TensorPrimitives.Add(x, _s.Xb.AsSpan(0, _c.EmbeddingLength), x);
        }

        VectorOps.RmsNorm(x, w.OutputNorm, _c.RmsEpsilon, _s.Xb.AsSpan(0, _c.EmbeddingLength));
        MatVec(w.Output, _s.Xb, _s.Logits);
        return _s.Logits;
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
    private void Attend(KvCache cache, int layer, int pos)
    {
        int hd = _c.HeadDim;
        int group = _c.HeadCount / _c.HeadCountKv;
        float scale = 1f / MathF.Sqrt(hd);
        var scores = _s.Scores.AsSpan(0, pos + 1);
        var cached = _s.Head.AsSpan(0, hd);
        for (int h = 0; h < _c.HeadCount; h++)
        {
            var q = _s.Q.AsSpan(h * hd, hd);
            int kvOffset = h / group * hd;
            for (int t = 0; t <= pos; t++)
            {
                cache.ReadKey(layer, t, kvOffset, cached);
                scores[t] = TensorPrimitives.Dot(q, cached) * scale;
            }
            VectorOps.Softmax(scores);
            var output = _s.Attention.AsSpan(h * hd, hd);
            output.Clear();
            for (int t = 0; t <= pos; t++)
            {
                cache.ReadValue(layer, t, kvOffset, cached);
                TensorPrimitives.MultiplyAdd(cached, scores[t], output, output);
            }
        }
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
