namespace Basalt.Tensors.Threading;

/// <summary>Work split across the threads of a <see cref="WorkerPool"/>: each thread is told its index and the thread count.</summary>
public interface IParallelJob
{
    /// <summary>Does this thread's share of the work.</summary>
    void Execute(int thread, int threadCount);
}
