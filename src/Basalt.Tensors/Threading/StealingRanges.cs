namespace Basalt.Tensors.Threading;

/// <summary>
/// Items [0, count) split into one contiguous range per thread, handed out in chunks: a thread takes chunks from the
/// front of its own range and, once that is empty, from the back of the range with the most left. Each thread reads
/// its own part in order (one stream for the prefetcher), and a thread that started late or lost its core for a
/// while — another process, an HTTP thread — has its remaining work taken over instead of holding everyone at the
/// barrier. Which thread runs an item never changes what the item computes.
/// </summary>
public sealed class StealingRanges
{
    private const int Stride = 16; // longs between two threads' ranges: two cache lines, so no false sharing
    private long[] _ranges = new long[Stride];
    private int _threads;

    /// <summary>Splits [0, <paramref name="count"/>) evenly over <paramref name="threads"/> threads. Call before the threads start taking.</summary>
    public void Reset(int count, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (_ranges.Length < threads * Stride) _ranges = new long[threads * Stride];
        for (int t = 0; t < threads; t++)
        {
            var (start, end) = WorkerPool.Share(count, t, threads);
            _ranges[t * Stride] = Pack(start, end);
        }
        _threads = threads;
    }

    /// <summary>
    /// The next chunk of at most <paramref name="chunk"/> items for <paramref name="thread"/>: from its own range while
    /// that lasts, then from the back of the fullest other one; false when no work is left.
    /// </summary>
    public bool TryTake(int thread, int chunk, out int start, out int end)
    {
        ref long own = ref _ranges[thread * Stride];
        while (true)
        {
            long r = Volatile.Read(ref own);
            var (s, e) = Unpack(r);
            if (s >= e) break;
            int next = Math.Min(e, s + chunk);
            if (Interlocked.CompareExchange(ref own, Pack(next, e), r) == r)
            {
                (start, end) = (s, next);
                return true;
            }
        }
        while (true)
        {
            int victim = -1, most = 0;
            for (int t = 0; t < _threads; t++)
            {
                var (s, e) = Unpack(Volatile.Read(ref _ranges[t * Stride]));
                if (e - s > most) (victim, most) = (t, e - s);
            }
            if (victim < 0)
            {
                (start, end) = (0, 0);
                return false;
            }
            ref long range = ref _ranges[victim * Stride];
            long r = Volatile.Read(ref range);
            var (vs, ve) = Unpack(r);
            if (vs >= ve) continue;
            int from = Math.Max(vs, ve - chunk);
            if (Interlocked.CompareExchange(ref range, Pack(vs, from), r) == r)
            {
                (start, end) = (from, ve);
                return true;
            }
        }
    }

    private static long Pack(int start, int end) => (uint)start | ((long)end << 32);

    private static (int Start, int End) Unpack(long r) => ((int)(uint)r, (int)(r >> 32));
}
