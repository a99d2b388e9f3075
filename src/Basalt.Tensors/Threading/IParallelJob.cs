namespace Basalt.Tensors.Threading;

/// <summary>Work split across the threads of a <see cref="WorkerPool"/>: each thread is told its index and the thread count.</summary>
public interface IParallelJob
{
    /// <summary>Does this thread's share of the work.</summary>
    void Execute(int thread, int threadCount);

    /// <summary>
    /// Memory <paramref name="thread"/> will read first in the job that follows this one, if known, for it to read
    /// while it waits for that job; asked after the thread's share is done and before it reports so.
    /// </summary>
    ReadAhead ReadAhead(int thread, int threadCount) => default;
}
