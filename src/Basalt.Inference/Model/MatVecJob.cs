using Basalt.Tensors.Threading;

namespace Basalt.Inference.Model;

/// <summary>
/// y = W·x: the input is converted once into the weight type's activation format, then the rows are
/// split across a worker pool. Each row is computed the same way whatever the thread count, so
/// results do not depend on it.
/// </summary>
internal sealed class MatVecJob(int maxCols) : IParallelJob
{
    // F32 activations are the widest format: 4 bytes per element.
    private readonly byte[] _xq = new byte[maxCols * sizeof(float)];
    private WeightTensor? _w;
    private float[] _y = [];

    public void Run(WorkerPool? pool, WeightTensor w, float[] x, float[] y)
    {
        w.QuantizeInput(x, _xq);
        // Below this many rows, waking the workers costs more than the work.
        if (pool is null || pool.ThreadCount == 1 || w.Rows < 64)
        {
            w.MatVec(_xq, y, 0, w.Rows);
            return;
        }
        (_w, _y) = (w, y);
        pool.Run(this);
        _w = null;
    }

    public void Execute(int thread, int threadCount)
    {
        var (start, end) = WorkerPool.Share(_w!.Rows, thread, threadCount);
        if (end > start) _w.MatVec(_xq, _y.AsSpan(start, end - start), start, end);
    }
}
