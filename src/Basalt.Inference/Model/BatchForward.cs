using System.Numerics.Tensors;
using Basalt.Tensors;
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
    private readonly RowsJob _rows = new();
    private readonly Action<int> _attentionInputRow, _qkvRow, _attentionOutputRow, _feedForwardInputRow, _downInputRow;
    private readonly int _gateWidth;
    private BatchEntry[] _batch = [];   // this call's entries, for the per-token steps (a span cannot be kept in a field)
    private LayerWeights? _layer;       // the layer the per-token steps work on
    private int _layerIndex;
    private int _gateStride;            // floats between rows of _gate in this layer
    private bool _pendingProjection;    // _proj holds a block output not yet added to the residual stream
    private readonly float[] _x, _xb, _q, _k, _v, _qkv, _att, _gate, _up, _proj, _ropeCos, _ropeSin;
    private float[] _logits = [];
    // Each layer's matrices by product, for the read-ahead of the product that follows another (see NextProduct).
    private readonly WeightTensor[][] _qkvWeights, _output, _gateUp, _down;
    private readonly WeightTensor[] _outputWeights;

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
        var layers = model.Weights.Layers;
        _qkvWeights = layers.Select(l => l.Wqkv is { } fused ? [fused] : new[] { l.Wq!, l.Wk!, l.Wv! }).ToArray();
        _output = layers.Select(l => new[] { l.Wo }).ToArray();
        _gateUp = layers.Select(l => l.GateUp is { } fused ? [fused] : new[] { l.Gate!, l.Up! }).ToArray();
        _down = layers.Select(l => new[] { l.Down }).ToArray();
        _outputWeights = [model.Weights.Output];
        _attentionInputRow = AttentionInputRow;
        _qkvRow = QkvRow;
        _attentionOutputRow = AttentionOutputRow;
        _feedForwardInputRow = FeedForwardInputRow;
        _downInputRow = DownInputRow;
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

        bool logits = false;
        foreach (var e in entries) logits |= e.WantLogits;
        if (_batch.Length < n) _batch = new BatchEntry[MaxBatch];
        entries.CopyTo(_batch);
        try
        {
            // Each block: the per-token steps (residual add, norm, rotary, cache store, activation, conversion of the
            // inputs for the next product) run split by token; the products run split by weight rows.
            _pendingProjection = false;
            for (int l = 0; l < w.Layers.Length; l++)
            {
                var layer = _layer = w.Layers[l];
                _layerIndex = l;
                if (layer.Wqkv is { } fused) _matMul.Prepare([fused], [_qkv], n);
                else _matMul.Prepare([layer.Wq!, layer.Wk!, layer.Wv!], [_q, _k, _v], n);
                _rows.Run(_pool, n, _attentionInputRow);
                _matMul.Multiply(_pool, _output[l]);
                _rows.Run(_pool, n, _qkvRow);
                _attention.Run(_pool, l, entries, _q, _att, _output[l]);
                _matMul.Prepare([layer.Wo], [_proj], n);
                _rows.Run(_pool, n, _attentionOutputRow);
                _matMul.Multiply(_pool, _gateUp[l]);

                _gateStride = layer.GateUp is null ? _c.FeedForwardLength : 2 * _c.FeedForwardLength;
                if (layer.GateUp is { } gateUp) _matMul.Prepare([gateUp], [_gate], n);
                else _matMul.Prepare([layer.Gate!, layer.Up!], [_gate, _up], n);
                _rows.Run(_pool, n, _feedForwardInputRow);
                _matMul.Multiply(_pool, _down[l]);
                _matMul.Prepare([layer.Down], [_proj], n);
                _rows.Run(_pool, n, _downInputRow);
                _matMul.Multiply(_pool, l + 1 < w.Layers.Length ? _qkvWeights[l + 1] : logits ? _outputWeights : []);
                _pendingProjection = true;
            }
            TensorPrimitives.Add(_x.AsSpan(0, n * embd), _proj.AsSpan(0, n * embd), _x.AsSpan(0, n * embd));
            return Logits(entries);
        }
        finally
        {
            // Nothing reads ahead past the logits' product, which names no next product; a batch that fails part-way
            // may leave a worker reading ahead weights the caller might free next.
            _pool?.StopReadAhead();
            Array.Clear(_batch, 0, n); // do not keep caches alive
            _layer = null;
        }
    }

    /// <summary>Token i entering a block: adds the last block's output to the residual stream, normalises, converts for Q/K/V.</summary>
    private void AttentionInputRow(int i)
    {
        int embd = _c.EmbeddingLength;
        var x = _x.AsSpan(i * embd, embd);
        if (_pendingProjection) TensorPrimitives.Add(x, _proj.AsSpan(i * embd, embd), x);
        var xb = _xb.AsSpan(i * embd, embd);
        VectorOps.RmsNorm(x, _layer!.AttnNorm, _c.RmsEpsilon, xb);
        _matMul.PrepareRow(i, xb);
    }

    /// <summary>Token i after the Q/K/V product: biases, rotary embedding, its key and value into its cache.</summary>
    private void QkvRow(int i)
    {
        var layer = _layer!;
        var e = _batch[i];
        int qDim = _c.QDim, kvDim = _c.KvDim, half = _c.RopeDimensionCount / 2;
        var q = _q.AsSpan(i * qDim, qDim);
        var k = _k.AsSpan(i * kvDim, kvDim);
        var v = _v.AsSpan(i * kvDim, kvDim);
        if (layer.Wqkv is not null)
        {
            var row = _qkv.AsSpan(i * (qDim + 2 * kvDim), qDim + 2 * kvDim);
            row[..qDim].CopyTo(q);
            row.Slice(qDim, kvDim).CopyTo(k);
            row.Slice(qDim + kvDim, kvDim).CopyTo(v);
        }
        if (layer.Bq is { } bq) TensorPrimitives.Add(q, bq, q);
        if (layer.Bk is { } bk) TensorPrimitives.Add(k, bk, k);
        if (layer.Bv is { } bv) TensorPrimitives.Add(v, bv, v);
        var cos = _ropeCos.AsSpan(i * half, half);
        var sin = _ropeSin.AsSpan(i * half, half);
        VectorOps.Rope(q, _c.HeadDim, cos, sin, _c.Rope == RopeStyle.NeoX);
        VectorOps.Rope(k, _c.HeadDim, cos, sin, _c.Rope == RopeStyle.NeoX);
        e.Cache.Store(_layerIndex, e.Position, k, v);
        // With an F16 cache ggml multiplies in F16: it rounds the query (and the attention weights) to F16 too.
        // Doing the same keeps log-probs within a few hundredths of llama.cpp's.
        if (e.Cache.UsesF16) FloatConversions.RoundToHalfPrecision(q, q);
    }

    /// <summary>
    /// Token i after attention: its output converted for the output projection. Every thread wrote some of its heads,
    /// so all its lines are asked for at once first: decoding the tinyllama shape (Q4_0, two threads, a timer around
    /// each step) this step took 0.7–0.8 µs a layer so, 1.7–1.8 µs when the conversion met the lines one by one (with
    /// the attention kernels of that time; after the transposed scores the same timer read 2.1–2.2 µs with it).
    /// </summary>
    private void AttentionOutputRow(int i)
    {
        var att = _att.AsSpan(i * _c.QDim, _c.QDim);
        VectorOps.Prefetch<float>(att);
        _matMul.PrepareRow(i, att);
    }

    /// <summary>Token i entering the feed-forward half: adds the attention output to the residual stream, normalises, converts for gate/up.</summary>
    private void FeedForwardInputRow(int i)
    {
        int embd = _c.EmbeddingLength;
        var x = _x.AsSpan(i * embd, embd);
        TensorPrimitives.Add(x, _proj.AsSpan(i * embd, embd), x);
        var xb = _xb.AsSpan(i * embd, embd);
        VectorOps.RmsNorm(x, _layer!.FfnNorm, _c.RmsEpsilon, xb);
        _matMul.PrepareRow(i, xb);
    }

    /// <summary>Token i after gate/up: act(gate) ⊙ up, converted for the down product.</summary>
    private void DownInputRow(int i)
    {
        int ff = _c.FeedForwardLength;
        var gate = _gate.AsSpan(i * _gateStride, ff);
        var up = _layer!.GateUp is null ? _up.AsSpan(i * ff, ff) : _gate.AsSpan(i * _gateStride + ff, ff);
        if (_c.Activation == Activation.Gelu)
        {
            VectorOps.Gelu(gate);
            TensorPrimitives.Multiply(gate, up, gate);
        }
        else VectorOps.SiluMultiply(gate, up);
        _matMul.PrepareRow(i, gate);
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
