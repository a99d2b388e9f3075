using Basalt.Tensors.Threading;

namespace Basalt.Inference.Model;

/// <summary>
/// Work done item by item — a per-token step of the forward pass (normalise, rotate, store, convert for the next
/// product), the sampling of each sequence of a step — with the items split across the pool. Each item's work is the
/// same whichever thread does it, so results do not depend on the thread count. The work is a delegate made once, so a
/// call allocates nothing.
/// </summary>
internal sealed class RowsJob : IParallelJob
{
    private Action<int>? _row;
    private int _count;

    /// <summary>Runs <paramref name="row"/>(i) for i in [0, <paramref name="count"/>), on <paramref name="pool"/> when there is more than one token.</summary>
    public void Run(WorkerPool? pool, int count, Action<int> row)
    {
        if (pool is null || pool.ThreadCount == 1 || count < 2)
        {
            for (int i = 0; i < count; i++) row(i);
            return;
        }
        (_row, _count) = (row, count);
        try
        {
            pool.Run(this);
        }
        finally
        {
            _row = null;
        }
    }

    public void Execute(int thread, int threadCount)
    {
        var (start, end) = WorkerPool.Share(_count, thread, threadCount);
        for (int i = start; i < end; i++) _row!(i);
    }
}
