using System.Runtime.InteropServices;
using Basalt.Tensors.Threading;

namespace Basalt.Tensors.Tests.Threading;

public sealed class WorkerPoolTests
{
    private sealed class SumJob(int[] data) : IParallelJob
    {
        public long[] Partial = new long[8];
        public int[] Calls = new int[8];

        public void Execute(int thread, int threadCount)
        {
            Interlocked.Increment(ref Calls[thread]);
            var (start, end) = WorkerPool.Share(data.Length, thread, threadCount);
            long sum = 0;
            for (int i = start; i < end; i++) sum += data[i];
            Partial[thread] = sum;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void EveryThreadRunsItsShareExactlyOncePerJob(int threads)
    {
        var data = Enumerable.Range(1, 10_001).ToArray();
        using var pool = new WorkerPool(threads);
        var job = new SumJob(data);
        for (int round = 1; round <= 500; round++)
        {
            pool.Run(job);
            Assert.Equal(data.Sum(x => (long)x), job.Partial.Sum());
            Assert.All(job.Calls.Take(threads), c => Assert.Equal(round, c));
        }
    }

    /// <summary>Records, per thread, the last round whose share it finished; in even rounds the workers take a while.</summary>
    private sealed class RoundJob : IParallelJob
    {
        public readonly int[] Finished = new int[8];
        public readonly SemaphoreSlim EvenRoundStarted = new(0);
        public int Round;

        public void Execute(int thread, int threadCount)
        {
            if (Round % 2 == 0)
            {
                if (thread == 0) EvenRoundStarted.Release();
                else Thread.Sleep(5);
            }
            Volatile.Write(ref Finished[thread], Round);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void RunReturnsOnlyAfterEveryWorkerFinishedThisRound(int threads)
    {
        using var pool = new WorkerPool(threads);
        var job = new RoundJob();
        // At the end of each odd round the last worker stalls between counting itself done and waking the caller, as
        // one that loses its core there does, until the caller, which saw the count reach zero while spinning, is
        // inside the next round; there the caller blocks as soon as its own share is done (as it does after spinning
        // when the workers are slow), and that round must not end on the late wake-up. (Should the caller of an odd
        // round block instead of seeing the count reach zero, the stall gives up after a while and the round is just
        // an ordinary one.)
        int ends = 0;
        pool.AfterLastWorker = () =>
        {
            if (Interlocked.Increment(ref ends) % 2 == 1) job.EvenRoundStarted.Wait(TimeSpan.FromMilliseconds(500));
        };
        for (int round = 1; round <= 20; round++)
        {
            job.Round = round;
            pool.CallerBlocksAtOnce = round % 2 == 0;
            pool.Run(job);
            for (int t = 0; t < threads; t++)
                Assert.Equal(round, Volatile.Read(ref job.Finished[t]));
        }
    }

    [Theory]
    [InlineData(7, 3)]
    [InlineData(2, 4)]
    [InlineData(0, 2)]
    public void SharesCoverTheRangeWithoutGaps(int count, int threads)
    {
        int next = 0;
        for (int t = 0; t < threads; t++)
        {
            var (start, end) = WorkerPool.Share(count, t, threads);
            Assert.Equal(next, start);
            Assert.True(end >= start);
            next = end;
        }
        Assert.Equal(count, next);
    }

    private sealed class FailingJob : IParallelJob
    {
        public void Execute(int thread, int threadCount)
        {
            if (thread == threadCount - 1) throw new InvalidOperationException("boom");
        }
    }

    [Fact]
    public void AWorkerFailureReachesTheCallerAndThePoolStaysUsable()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<AggregateException>(() => pool.Run(new FailingJob()));
        Assert.IsType<InvalidOperationException>(e.InnerException);
        var job = new SumJob([1, 2, 3]);
        pool.Run(job);
        Assert.Equal(6, job.Partial.Sum());
    }

    /// <summary>Names <see cref="Bytes"/> of <see cref="Memory"/> as the next job's start for the threads in <see cref="Readers"/>; workers sleep first when told.</summary>
    private sealed unsafe class ReadAheadJob(byte* memory, long bytes, params int[] readers) : IParallelJob
    {
        public int WorkerSleepMs;
        public Func<bool>? WorkersWaitFor;

        public void Execute(int thread, int threadCount)
        {
            if (thread == 0) return;
            if (WorkerSleepMs > 0) Thread.Sleep(WorkerSleepMs);
            if (WorkersWaitFor is { } condition) Assert.True(SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(30)));
        }

        public ReadAhead ReadAhead(int thread, int threadCount) => readers.Contains(thread) ? new ReadAhead(memory, bytes) : default;
    }

    // Never touched: reading it maps the kernel's zero page, a page fault per 4 KiB, so reading all of it takes far
    // longer than any of these tests waits; a read-ahead that ran to the end would show as 2^32 bytes read.
    private const long Huge = 1L << 32;

    private static unsafe void WithMemory(long bytes, Action<nint> test)
    {
        var memory = NativeMemory.AlignedAlloc((nuint)bytes, 64);
        try
        {
            test((nint)memory);
        }
        finally
        {
            NativeMemory.AlignedFree(memory);
        }
    }

    [Fact]
    public unsafe void AWorkerReadsAheadWhatItsJobNamesOnceItsShareIsDone() => WithMemory(64 << 10, memory =>
    {
        using var pool = new WorkerPool(3);
        pool.Run(new ReadAheadJob((byte*)memory, 64 << 10, 1, 2));
        // Nothing starts the next job: both workers read all of it.
        Assert.True(SpinWait.SpinUntil(() => pool.BytesReadAhead == 2 * (64 << 10), TimeSpan.FromSeconds(30)), $"{pool.BytesReadAhead} bytes read ahead");
    });

    [Fact]
    public unsafe void AWorkersReadAheadEndsWhenTheNextJobStarts() => WithMemory(Huge, memory =>
    {
        using var pool = new WorkerPool(2);
        pool.Run(new ReadAheadJob((byte*)memory, Huge, 1));
        var next = new SumJob([1, 2, 3]);
        pool.Run(next); // the worker runs its share only after its read-ahead stopped
        Assert.Equal(6, next.Partial.Sum());
        long read = pool.BytesReadAhead;
        Assert.InRange(read, 0, Huge - 1);
        Thread.Sleep(20);
        Assert.Equal(read, pool.BytesReadAhead);
    });

    [Fact]
    public unsafe void StopReadAheadReturnsOnceNoWorkerReads() => WithMemory(Huge, memory =>
    {
        using var pool = new WorkerPool(3);
        pool.Run(new ReadAheadJob((byte*)memory, Huge, 1, 2));
        // Both workers are inside their read-ahead (a reader counts itself before it reads).
        Assert.True(SpinWait.SpinUntil(() => pool.WorkersReadingAhead == 2, TimeSpan.FromSeconds(30)));
        pool.StopReadAhead();
        Assert.Equal(0, pool.WorkersReadingAhead);
        long read = pool.BytesReadAhead; // each adds what it read when it stops
        Assert.InRange(read, 0, Huge - 1); // both stopped part-way: StopReadAhead stops readers, not only waits for them
        Thread.Sleep(20);
        Assert.Equal(read, pool.BytesReadAhead); // after it returns, nothing reads: the memory may be freed
        Assert.Equal(0, pool.WorkersReadingAhead);
    });

    [Fact]
    public unsafe void TheCallerReadsAheadOnlyWhileWorkersRun()
    {
        WithMemory(64 << 10, memory =>
        {
            using var pool = new WorkerPool(2);
            // The worker finishes only once the caller has read ahead: all of it, since nothing stopped it.
            pool.Run(new ReadAheadJob((byte*)memory, 64 << 10, 0) { WorkersWaitFor = () => pool.BytesReadAhead > 0 });
            Assert.Equal(64 << 10, pool.BytesReadAhead);
        });
        WithMemory(Huge, memory =>
        {
            using var pool = new WorkerPool(2);
            pool.Run(new ReadAheadJob((byte*)memory, Huge, 0) { WorkerSleepMs = 5 });
            Assert.InRange(pool.BytesReadAhead, 0, Huge - 1); // stopped when the worker was done
        });
    }
}
