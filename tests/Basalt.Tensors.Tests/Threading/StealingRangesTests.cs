using Basalt.Tensors.Threading;

namespace Basalt.Tensors.Tests.Threading;

public sealed class StealingRangesTests
{
    private sealed class MarkJob(StealingRanges ranges, int[] marks, int chunk, int slowThread) : IParallelJob
    {
        public int[] Taken = new int[8];

        public void Execute(int thread, int threadCount)
        {
            while (ranges.TryTake(thread, chunk, out int start, out int end))
            {
                Assert.True(start < end && end - start <= chunk, $"[{start}, {end})");
                for (int i = start; i < end; i++) Interlocked.Increment(ref marks[i]);
                Interlocked.Add(ref Taken[thread], end - start);
                if (thread == slowThread) Thread.Sleep(2); // a thread that lost its core
            }
        }
    }

    [Theory]
    [InlineData(2, 1000, 8)]
    [InlineData(3, 997, 5)]
    [InlineData(4, 7, 3)]
    [InlineData(2, 0, 4)]
    public void EveryItemIsTakenExactlyOnce(int threads, int count, int chunk)
    {
        using var pool = new WorkerPool(threads);
        var ranges = new StealingRanges();
        for (int round = 0; round < 200; round++)
        {
            var marks = new int[count];
            ranges.Reset(count, threads);
            pool.Run(new MarkJob(ranges, marks, chunk, slowThread: -1));
            Assert.All(marks, m => Assert.Equal(1, m));
        }
    }

    [Fact]
    public void ASlowThreadsWorkIsTakenOver()
    {
        using var pool = new WorkerPool(2);
        var ranges = new StealingRanges();
        var marks = new int[400];
        ranges.Reset(marks.Length, 2);
        var job = new MarkJob(ranges, marks, chunk: 2, slowThread: 1);
        pool.Run(job);
        Assert.All(marks, m => Assert.Equal(1, m));
        // Thread 1 sleeps after every chunk of its 200 items (200 ms in all); thread 0 does its own in microseconds
        // and then takes chunks from the back of thread 1's run.
        Assert.True(job.Taken[0] > 200, $"thread 0 took {job.Taken[0]} of 400");
    }

    [Fact]
    public void OneThreadTakesTheWholeRangeInOrder()
    {
        var ranges = new StealingRanges();
        ranges.Reset(10, 1);
        var taken = new List<(int, int)>();
        while (ranges.TryTake(0, 4, out int s, out int e)) taken.Add((s, e));
        Assert.Equal([(0, 4), (4, 8), (8, 10)], taken);
    }
}
