namespace Basalt.Tensors.Threading;

/// <summary>
/// A persistent pool of worker threads for the forward pass. The caller runs share 0 itself; the
/// workers run the rest. Waiting threads spin briefly and then block: a pure spin barrier stalls
/// for many milliseconds whenever another process takes one of the few cores.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    // About the time of one small matrix-vector product; beyond that blocking costs less than spinning.
    private const int SpinIterations = 2000;

    // Before those yielding spins, a few microseconds of pause-only spinning: most waits inside a forward pass (a
    // worker a little behind, the next product right after a short per-token step) end within that, and a yield is a
    // system call, which costs microseconds of its own on a virtual machine.
    private const int PauseSpins = 64;

    private readonly Thread[] _workers;
    private readonly SemaphoreSlim[] _start;   // one per worker, released once per job, so no worker can take another's turn
    // The caller blocks here when its spin runs out. A monitor, not an event: a late wake-up meant for an earlier job
    // (from a worker that lost its core after counting itself done) finds the count still above zero and is ignored,
    // where a set event would let the caller return while this job still runs.
    private readonly object _gate = new();
    private IParallelJob? _job;
    private int _pending;
    private long _generation;
    private volatile bool _disposed;
    private Exception? _failure;

    /// <summary>Creates a pool that runs jobs on <paramref name="threadCount"/> threads, the caller included.</summary>
    public WorkerPool(int threadCount)
    {
        if (threadCount < 1) throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "At least one thread is needed.");
        ThreadCount = threadCount;
        _workers = new Thread[threadCount - 1];
        _start = Enumerable.Range(0, _workers.Length).Select(_ => new SemaphoreSlim(0)).ToArray();
        for (int i = 0; i < _workers.Length; i++)
        {
            int index = i + 1;
            _workers[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"basalt-worker-{index}" };
            _workers[i].Start();
        }
    }

    /// <summary>
    /// For tests: runs on the worker that finished a job last, after it counted itself done and before it wakes the
    /// caller — where a worker that loses its core sits while the caller may already be on its next job.
    /// </summary>
    internal Action? AfterLastWorker { get; set; }

    /// <summary>For tests: the caller of <see cref="Run"/> waits for the workers without spinning first.</summary>
    internal bool CallerBlocksAtOnce { get; set; }

    /// <summary>Threads a job is split across, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>Runs <paramref name="job"/> on every thread and returns when all have finished. Not re-entrant.</summary>
    public void Run(IParallelJob job)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_workers.Length == 0)
        {
            job.Execute(0, 1);
            return;
        }
        _job = job;
        _failure = null;
        Volatile.Write(ref _pending, _workers.Length);
        Interlocked.Increment(ref _generation);
        foreach (var s in _start) s.Release();
        try
        {
            job.Execute(0, ThreadCount);
        }
        finally
        {
            WaitForWorkers();
            _job = null;
        }
        if (_failure is { } e) throw new AggregateException("A worker thread failed.", e);
    }

    private void WaitForWorkers()
    {
        bool spin = !CallerBlocksAtOnce;
        for (int i = 0; spin && i < PauseSpins && Volatile.Read(ref _pending) > 0; i++) Thread.SpinWait(20);
        var spinner = new SpinWait();
        for (int i = 0; spin && i < SpinIterations && Volatile.Read(ref _pending) > 0; i++) spinner.SpinOnce(sleep1Threshold: -1);
        if (Volatile.Read(ref _pending) == 0) return;
        lock (_gate)
        {
            while (Volatile.Read(ref _pending) > 0) Monitor.Wait(_gate);
        }
    }

    private void WorkerLoop(int index)
    {
        long seen = 0;
        while (true)
        {
            SpinForWork(seen);
            _start[index - 1].Wait(); // immediate when the spin saw the new job
            if (_disposed) return;
            seen = Interlocked.Read(ref _generation);
            try
            {
                _job!.Execute(index, ThreadCount);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                AfterLastWorker?.Invoke();
                lock (_gate) Monitor.PulseAll(_gate);
            }
        }
    }

    private void SpinForWork(long seen)
    {
        for (int i = 0; i < PauseSpins && Interlocked.Read(ref _generation) == seen && !_disposed; i++) Thread.SpinWait(20);
        var spinner = new SpinWait();
        for (int i = 0; i < SpinIterations && Interlocked.Read(ref _generation) == seen && !_disposed; i++)
            spinner.SpinOnce(sleep1Threshold: -1);
    }

    /// <summary>The half-open range of <paramref name="count"/> items that <paramref name="thread"/> of <paramref name="threadCount"/> handles, in contiguous even chunks.</summary>
    public static (int Start, int End) Share(int count, int thread, int threadCount)
    {
        long start = (long)count * thread / threadCount;
        long end = (long)count * (thread + 1) / threadCount;
        return ((int)start, (int)end);
    }

    /// <summary>Stops the workers. Not while a <see cref="Run"/> is in progress on another thread.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var s in _start) s.Release();
        foreach (var w in _workers) w.Join();
        foreach (var s in _start) s.Dispose();
    }
}
