using Basalt.Tensors.Threading;

namespace Basalt.Inference.Model;

/// <summary>y = W·x with the rows split across a worker pool. Each row is computed the same way whatever the thread count, so results do not depend on it.</summary>
internal sealed class MatVecJob(int threads, int maxCols) : IParallelJob
{
    private readonly float[][] _scratch = Enumerable.Range(0, threads).Select(_ => new float[maxCols]).ToArray();
    private WeightTensor? _w;
    private float[] _x = [];
    private float[] _y = [];

    public void Run(WorkerPool? pool, WeightTensor w, float[] x, float[] y)
    {
        // Below this many rows, waking the workers costs more than the work.
        if (pool is null || pool.ThreadCount == 1 || w.Rows < 64)
        {
            w.MatVec(x, y, _scratch[0]);
            return;
        }
        (_w, _x, _y) = (w, x, y);
        pool.Run(this);
        _w = null;
    }

    public void Execute(int thread, int threadCount)
    {
        var (start, end) = WorkerPool.Share(_w!.Rows, thread, threadCount);
        if (end > start) _w.MatVec(_x, _y.AsSpan(start, end - start), _scratch[thread], start, end);
    }
}
