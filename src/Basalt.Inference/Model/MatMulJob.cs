using Basalt.Tensors.Quants;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Model;

/// <summary>
/// Y = X·Wᵀ for a batch of input rows: each input row is converted once into the weight type's
/// activation format, then the weight rows are split across the worker pool and each weight row is
/// read once and multiplied with every input row while it is hot in cache. Every output is
/// computed the same way whatever the thread count or batch size, so results do not depend on either.
/// </summary>
internal sealed class MatMulJob : IParallelJob
{
    // Weight rows handled together, so that a tile of weights stays in L1 while the inputs stream past.
    private const int RowTile = 16;

    private readonly byte[] _xq;
    private readonly int _maxInputBytes;
    private WeightTensor? _w;
    private float[] _y = [];
    private int _n;
    private int _xqStride;

    public MatMulJob(int maxBatch, int maxCols)
    {
        // F32 activations are the widest format: 4 bytes per element.
        _maxInputBytes = maxCols * sizeof(float);
        _xq = new byte[(long)maxBatch * _maxInputBytes];
    }

    /// <summary>Y[n, r] = W.row(r) · X[n] for n &lt; <paramref name="n"/>; X rows are <paramref name="xStride"/> apart, Y rows W.Rows apart.</summary>
    public void Run(WorkerPool? pool, WeightTensor w, float[] x, int xStride, int n, float[] y)
    {
        _xqStride = w.QuantizedInputBytes;
        for (int i = 0; i < n; i++)
            w.QuantizeInput(x.AsSpan(i * xStride, w.Cols), _xq.AsSpan(i * _xqStride, _xqStride));
        (_w, _y, _n) = (w, y, n);
        // Below this much work, waking the workers costs more than it saves.
        if (pool is null || pool.ThreadCount == 1 || (long)w.Rows * n < 64) Execute(0, 1);
        else pool.Run(this);
        _w = null;
    }

    private ReadOnlySpan<byte> Input(int i) => _xq.AsSpan(i * _xqStride, _xqStride);

    public void Execute(int thread, int threadCount)
    {
        var w = _w!;
        if (w.Packed is { } packed)
        {
            // Whole sixteen-row groups per thread; each group meets the inputs four at a time.
            var (g0, g1) = WorkerPool.Share(packed.Groups, thread, threadCount);
            w.MultiplyPacked(_xq, _xqStride, _n, g0, g1, _y, w.Rows);
            return;
        }
        var (start, end) = WorkerPool.Share(w.Rows, thread, threadCount);
        int rows = w.Rows;
        Span<float> four = stackalloc float[4];
        bool fourWay = FastKernels.HasDot4(w.Type);
        for (int tile = start; tile < end; tile += RowTile)
        {
            int tileEnd = Math.Min(end, tile + RowTile);
            int i = 0;
            // Four inputs at a time where the weight type has a four-way kernel: each weight block is
            // unpacked once for all four, with bit-identical results to one input at a time.
            for (; fourWay && i + 4 <= _n; i += 4)
            {
                for (int r = tile; r < tileEnd; r++)
                {
                    FastKernels.TryDotQuantized4(w.Type, w.Row(r), Input(i), Input(i + 1), Input(i + 2), Input(i + 3), four);
                    for (int k = 0; k < 4; k++) _y[(i + k) * rows + r] = four[k];
                }
            }
            for (; i < _n; i++)
                w.MatVec(Input(i), _y.AsSpan(i * rows + tile, tileEnd - tile), tile, tileEnd);
        }
    }
}
