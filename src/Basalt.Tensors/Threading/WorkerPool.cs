namespace Basalt.Tensors.Threading;

/// <summary>
/// A persistent pool of worker threads for the forward pass. The caller runs share 0 itself; the
/// workers run the rest. Waiting threads spin briefly and then block: a pure spin barrier stalls
/// for many milliseconds whenever another process takes one of the few cores. A thread whose share
/// is done first reads what the job names as its start of the next one (<see cref="IParallelJob.ReadAhead"/>),
/// so the memory keeps streaming while it would wait.
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

    /// <summary>For tests: bytes every thread has read ahead (see <see cref="IParallelJob.ReadAhead"/>) so far.</summary>
    internal long BytesReadAhead => Interlocked.Read(ref _readAhead[BytesAt]);

    /// <summary>For tests: workers reading ahead now.</summary>
    internal long WorkersReadingAhead => Interlocked.Read(ref _readAhead[ReadersAt]);

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
        var ahead = default(ReadAhead);
        try
        {
            job.Execute(0, ThreadCount);
            ahead = job.ReadAhead(0, ThreadCount);
        }
        finally
        {
            WaitForWorkers(ahead);
            _job = null;
        }
        if (_failure is { } e) throw new AggregateException("A worker thread failed.", e);
    }

    private void WaitForWorkers(ReadAhead ahead)
    {
        bool spin = !CallerBlocksAtOnce;
        if (spin && !ahead.IsEmpty && Volatile.Read(ref _pending) > 0)
        {
            var done = new WorkersDone(this);
            Interlocked.Add(ref _readAhead[BytesAt], ahead.Read(ref done, out t_fold));
        }
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
            long epoch = Interlocked.Read(ref _readAheadEpoch);
            var ahead = default(ReadAhead);
            try
            {
                var job = _job!;
                job.Execute(index, ThreadCount);
                ahead = job.ReadAhead(index, ThreadCount);
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
            if (!ahead.IsEmpty)
            {
                // Counted before the signal is first asked, so StopReadAhead either sees this reader or this reader
                // sees its new epoch (both sides use interlocked operations, which are ordered).
                Interlocked.Increment(ref _readAhead[ReadersAt]);
                var next = new NextJob(this, seen, epoch);
                Interlocked.Add(ref _readAhead[BytesAt], ahead.Read(ref next, out t_fold));
                Interlocked.Decrement(ref _readAhead[ReadersAt]);
            }
        }
    }

    [ThreadStatic] private static int t_fold; // what a thread's read-ahead loads folded to, so that they are kept

    // Workers reading ahead now, and bytes read ahead (for tests), on lines of their own: the fields above are polled
    // by spinning threads.
    private readonly long[] _readAhead = new long[3 * 8];
    private const int ReadersAt = 8, BytesAt = 16;
    private long _readAheadEpoch; // moved on by StopReadAhead

    /// <summary>
    /// Stops every worker's read-ahead and returns once none reads: after it, memory a finished job named in
    /// <see cref="IParallelJob.ReadAhead"/> may be freed. Read-ahead otherwise runs until the next job starts.
    /// </summary>
    public void StopReadAhead()
    {
        Interlocked.Increment(ref _readAheadEpoch);
        var spinner = new SpinWait();
        while (Volatile.Read(ref _readAhead[ReadersAt]) != 0) spinner.SpinOnce(sleep1Threshold: -1); // yields: a reader may have lost its core
    }

    /// <summary>A worker's read-ahead stops when the next job is handed out, at <see cref="StopReadAhead"/>, or when the pool stops.</summary>
    private readonly struct NextJob(WorkerPool pool, long seen, long epoch) : IStopSignal
    {
        // Plain volatile reads: asked every kilobyte, a locked read would cost a good part of the kilobyte's time.
        public bool ShouldStop => Volatile.Read(ref pool._generation) != seen || Volatile.Read(ref pool._readAheadEpoch) != epoch || pool._disposed;
    }

    /// <summary>The caller's read-ahead stops when every worker has finished.</summary>
    private readonly struct WorkersDone(WorkerPool pool) : IStopSignal
    {
        public bool ShouldStop => Volatile.Read(ref pool._pending) == 0;
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
