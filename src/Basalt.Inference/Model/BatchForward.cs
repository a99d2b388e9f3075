using System.Numerics.Tensors;
using Basalt.Tensors.Ops;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Model;

/// <summary>
/// The fast forward pass: a batch of tokens — the prompt of one sequence, or the next token of many
/// sequences — goes through the network together, so each weight matrix is read once per batch
/// rather than once per token. Owns the activation buffers for up to <see cref="MaxBatch"/> tokens;
/// not thread-safe (one loop uses one instance).
/// </summary>
public sealed class BatchForward
{
    private readonly TransformerModel _model;
    private readonly ModelConfig _c;
    private readonly WorkerPool? _pool;
    private readonly MatMulJob _matMul;
    private readonly AttentionJob _attention;
    private readonly int _gateWidth;
    private readonly float[] _x, _xb, _q, _k, _v, _qkv, _att, _gate, _up, _proj, _ropeCos, _ropeSin;
    private float[] _logits = [];

    /// <summary>Creates buffers for batches of up to <paramref name="maxBatch"/> tokens; matrix products run on <paramref name="pool"/> when given.</summary>
    public BatchForward(TransformerModel model, WorkerPool? pool = null, int maxBatch = 64)
    {
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, "The batch must hold at least one token.");
        _model = model;
        _c = model.Config;
        _pool = pool;
        MaxBatch = maxBatch;
        int embd = _c.EmbeddingLength, ff = _c.FeedForwardLength;
        _gateWidth = 2 * ff; // room for Phi-3's fused gate|up output
        _x = new float[maxBatch * embd];                      // [batch, n_embd] residual stream
        _xb = new float[maxBatch * embd];                     // [batch, n_embd] normed input
        _q = new float[maxBatch * _c.QDim];                   // [batch, n_head * head_dim]
        _k = new float[maxBatch * _c.KvDim];                  // [batch, n_head_kv * head_dim]
        _v = new float[maxBatch * _c.KvDim];                  // [batch, n_head_kv * head_dim]
        _qkv = new float[maxBatch * (_c.QDim + 2 * _c.KvDim)];// [batch, q | k | v] fused projection
        _att = new float[maxBatch * _c.QDim];                 // [batch, n_head * head_dim] attention output
        _gate = new float[maxBatch * _gateWidth];             // [batch, 2 n_ff] gate (or gate|up)
        _up = new float[maxBatch * ff];                       // [batch, n_ff]
        _proj = new float[maxBatch * embd];                   // [batch, n_embd] block output
        _ropeCos = new float[maxBatch * (_c.RopeDimensionCount / 2)]; // [batch, rope_dim / 2] rotary angles
        _ropeSin = new float[maxBatch * (_c.RopeDimensionCount / 2)];
        _matMul = new MatMulJob(maxBatch, Math.Max(Math.Max(embd, ff), _c.QDim));
        _attention = new AttentionJob(_c, pool?.ThreadCount ?? 1);
    }

    /// <summary>Most tokens one <see cref="Forward"/> call takes.</summary>
    public int MaxBatch { get; }

    /// <summary>The model.</summary>
    public TransformerModel Model => _model;

    /// <summary>
    /// Runs the batch: stores every entry's key and value in its cache and returns the logits of the
    /// entries that want them, in entry order ([wanted × n_vocab], valid until the next call). Callers
    /// advance their cache lengths afterwards.
    /// </summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<BatchEntry> entries)
    {
        int n = entries.Length;
        if (n == 0 || n > MaxBatch) throw new ArgumentOutOfRangeException(nameof(entries), n, $"A batch holds 1..{MaxBatch} tokens.");
        int embd = _c.EmbeddingLength;
        var w = _model.Weights;
        for (int i = 0; i < n; i++)
        {
            var e = entries[i];
            if ((uint)e.Token >= (uint)_c.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(entries), e.Token, $"Token ids must be in 0..{_c.VocabSize - 1}.");
            if ((uint)e.Position >= (uint)e.Cache.Capacity) throw new ContextOverflowException(e.Position + 1, e.Cache.Capacity);
            var x = _x.AsSpan(i * embd, embd);
            w.TokenEmbedding.ReadRow(e.Token, x);
            if (_c.ScaleEmbeddings) TensorPrimitives.Multiply(x, MathF.Sqrt(embd), x);
        }

        // The rotary angles depend only on each token's position: one table per token serves every head and layer.
        int half = _c.RopeDimensionCount / 2;
        for (int i = 0; i < n; i++)
            VectorOps.RopeAngles(entries[i].Position, _c.RopeDimensionCount, _c.RopeFreqBase, _c.RopeFreqScale,
                _ropeCos.AsSpan(i * half, half), _ropeSin.AsSpan(i * half, half));

        for (int l = 0; l < w.Layers.Length; l++)
        {
            var layer = w.Layers[l];
            NormRows(n, layer.AttnNorm);
            ProjectQkv(layer, n);
            for (int i = 0; i < n; i++)
            {
                var e = entries[i];
                var q = _q.AsSpan(i * _c.QDim, _c.QDim);
                var k = _k.AsSpan(i * _c.KvDim, _c.KvDim);
                var cos = _ropeCos.AsSpan(i * half, half);
                var sin = _ropeSin.AsSpan(i * half, half);
                VectorOps.Rope(q, _c.HeadDim, cos, sin, _c.Rope == RopeStyle.NeoX);
                VectorOps.Rope(k, _c.HeadDim, cos, sin, _c.Rope == RopeStyle.NeoX);
                e.Cache.Store(l, e.Position, k, _v.AsSpan(i * _c.KvDim, _c.KvDim));
            }
            _attention.Run(_pool, l, entries, _q, _att);
            _matMul.Run(_pool, layer.Wo, _att, _c.QDim, n, _proj);
            TensorPrimitives.Add(_x.AsSpan(0, n * embd), _proj.AsSpan(0, n * embd), _x.AsSpan(0, n * embd));

            NormRows(n, layer.FfnNorm);
            FeedForward(layer, n);
            TensorPrimitives.Add(_x.AsSpan(0, n * embd), _proj.AsSpan(0, n * embd), _x.AsSpan(0, n * embd));
        }
        return Logits(entries);
    }

    private void NormRows(int n, float[] weight)
    {
        int embd = _c.EmbeddingLength;
        for (int i = 0; i < n; i++)
            VectorOps.RmsNorm(_x.AsSpan(i * embd, embd), weight, _c.RmsEpsilon, _xb.AsSpan(i * embd, embd));
    }

    private void ProjectQkv(LayerWeights layer, int n)
    {
        int embd = _c.EmbeddingLength;
        if (layer.Wqkv is { } fused)
        {
            int width = _c.QDim + 2 * _c.KvDim;
            _matMul.Run(_pool, fused, _xb, embd, n, _qkv);
            for (int i = 0; i < n; i++)
            {
                var row = _qkv.AsSpan(i * width, width);
                row[.._c.QDim].CopyTo(_q.AsSpan(i * _c.QDim));
                row.Slice(_c.QDim, _c.KvDim).CopyTo(_k.AsSpan(i * _c.KvDim));
                row.Slice(_c.QDim + _c.KvDim, _c.KvDim).CopyTo(_v.AsSpan(i * _c.KvDim));
            }
        }
        else
        {
            _matMul.Run(_pool, [layer.Wq!, layer.Wk!, layer.Wv!], [_q, _k, _v], _xb, embd, n);
        }
        AddBias(layer.Bq, _q, n);
        AddBias(layer.Bk, _k, n);
        AddBias(layer.Bv, _v, n);
    }

    private static void AddBias(float[]? bias, float[] rows, int n)
    {
        if (bias is null) return;
        for (int i = 0; i < n; i++)
        {
            var row = rows.AsSpan(i * bias.Length, bias.Length);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    /// <summary>Gated feed-forward for every row: down(act(gate·x) ⊙ up·x), into the block-output buffer.</summary>
    private void FeedForward(LayerWeights layer, int n)
    {
        int embd = _c.EmbeddingLength, ff = _c.FeedForwardLength;
        int gateStride;
        if (layer.GateUp is { } fused)
        {
            gateStride = 2 * ff;
            _matMul.Run(_pool, fused, _xb, embd, n, _gate);
        }
        else
        {
            gateStride = ff;
            _matMul.Run(_pool, [layer.Gate!, layer.Up!], [_gate, _up], _xb, embd, n);
        }
        for (int i = 0; i < n; i++)
        {
            var gate = _gate.AsSpan(i * gateStride, ff);
            var up = layer.GateUp is null ? _up.AsSpan(i * ff, ff) : _gate.AsSpan(i * gateStride + ff, ff);
            if (_c.Activation == Activation.Gelu) VectorOps.Gelu(gate);
            else VectorOps.Silu(gate);
            TensorPrimitives.Multiply(gate, up, gate);
        }
        _matMul.Run(_pool, layer.Down, _gate, gateStride, n, _proj);
    }

    private ReadOnlySpan<float> Logits(ReadOnlySpan<BatchEntry> entries)
    {
        int embd = _c.EmbeddingLength, wanted = 0;
        for (int i = 0; i < entries.Length; i++)
        {
            if (!entries[i].WantLogits) continue;
            VectorOps.RmsNorm(_x.AsSpan(i * embd, embd), _model.Weights.OutputNorm, _c.RmsEpsilon, _xb.AsSpan(wanted * embd, embd));
            wanted++;
        }
        if (wanted == 0) return [];
        int size = wanted * _c.VocabSize;
        if (_logits.Length < size) _logits = new float[size];
        _matMul.Run(_pool, _model.Weights.Output, _xb, embd, wanted, _logits);
        return _logits.AsSpan(0, size);
    }
}
