using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Basalt.Tensors.Packed;
using Basalt.Tensors.Threading;

namespace Basalt.Tensors.Diagnostics;

/// <summary>
/// Memory read bandwidth: a buffer far larger than the caches (512 MiB by default), summed with the widest accelerated
/// vectors by one or more threads, each reading its own contiguous share. Decoding reads every weight once per token, so this is the
/// ceiling for decode speed. The buffer is native memory, written and then read a few times at construction so that
/// every page is mapped and warm before anything is timed; <see cref="Dispose"/> frees it.
/// </summary>
public sealed unsafe class ReadBandwidth : IDisposable
{
    /// <summary>The default buffer size, 512 MiB.</summary>
    public const long DefaultBytes = 512L << 20;

    private float* _buffer;

    /// <summary>Allocates and touches a buffer of <paramref name="bytes"/> bytes (a multiple of 4 KiB).</summary>
    public ReadBandwidth(long bytes = DefaultBytes)
    {
        if (bytes <= 0 || bytes % 4096 != 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "The buffer size must be a positive multiple of 4096 bytes.");
        Bytes = bytes;
        _buffer = (float*)NativeMemory.AlignedAlloc((nuint)bytes, 4096);
        for (long at = 0, floats = bytes / sizeof(float); at < floats; at += 1 << 20)
            new Span<float>(_buffer + at, (int)Math.Min(1 << 20, floats - at)).Fill(1);
        // The first passes over freshly written memory read slowly (on the shared host: 14, 24, 27, then 29-30 GB/s
        // on one thread, with or without tiered compilation), so a few untimed passes come first.
        for (int pass = 0; pass < 4; pass++) Read(1);
    }

    /// <summary>Size of the buffer in bytes.</summary>
    public long Bytes { get; }

    /// <summary>
    /// Reads the whole buffer once with <paramref name="threads"/> threads; returns GB/s (10^9 bytes per second). The
    /// first call with more than one thread also starts pool threads: make it untimed (<see cref="Read(int)"/>).
    /// </summary>
    public double Measure(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var clock = Stopwatch.StartNew();
        Read(threads);
        return Bytes / clock.Elapsed.TotalSeconds / 1e9;
    }

    /// <summary>Reads the whole buffer once with <paramref name="threads"/> threads and returns the sum of its values.</summary>
    public float Read(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ObjectDisposedException.ThrowIf(_buffer == null, this);
        if (threads == 1) return Sum(0, 1);
        var partial = new float[threads];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => partial[t] = Sum(t, threads));
        return partial.Sum();
    }

    /// <summary>
    /// Reads the whole buffer once on the threads of <paramref name="pool"/> (each its own contiguous share, as
    /// <see cref="Read(int)"/>); returns GB/s. These are the threads a forward pass runs on, already started and
    /// spinning between jobs, where a <see cref="Parallel"/> read may start its second thread late.
    /// </summary>
    public double Measure(WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var clock = Stopwatch.StartNew();
        Read(pool);
        return Bytes / clock.Elapsed.TotalSeconds / 1e9;
    }

    /// <summary>Reads the whole buffer once on the threads of <paramref name="pool"/> and returns the sum of its values.</summary>
    public float Read(WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ObjectDisposedException.ThrowIf(_buffer == null, this);
        var job = new SumJob(this, pool.ThreadCount);
        pool.Run(job);
        return job.Partial.Sum();
    }

    private sealed class SumJob(ReadBandwidth owner, int threads) : IParallelJob
    {
        public float[] Partial { get; } = new float[threads];

        public void Execute(int thread, int threadCount) => Partial[thread] = owner.Sum(thread, threadCount);
    }

    /// <summary>A page: the loop prefetches one line per page read.</summary>
    private const int PageBytes = 4096;

    /// <summary>
    /// One line <see cref="PackedMatrix.PageAhead"/> (16 KiB) ahead of <paramref name="at"/>, so that the page walks for
    /// the pages ahead start before the loads reach them (as the packed decode kernels do). On one Zen 5 thread the loop read 41.5–41.9 GB/s with it (8, 16 or
    /// 32 KiB ahead) against 34.6–34.7 without, on two 68–73 against 53; software prefetch of every line 4 KiB ahead had
    /// made it 7–14% slower.
    /// </summary>
    private static void PrefetchPageAhead(void* at)
    {
        if (Sse.IsSupported) Sse.Prefetch0((byte*)at + PackedMatrix.PageAhead);
    }

    private float Sum(int thread, int threads)
    {
        // Each share a whole number of 64-byte lines (a share off a line would split every load across two).
        long floats = Bytes / sizeof(float), share = floats / threads / 16 * 16;
        long start = share * thread, end = thread == threads - 1 ? floats : start + share;
        return SumRange(_buffer + start, end - start);
    }

    /// <summary>
    /// Reads [<paramref name="start"/>, +<paramref name="bytes"/>) with the loop this class measures with, adding its
    /// 32-bit words as integers (so any bytes will do: no float assists), and returns their sum, which keeps the loads.
    /// For diagnostics that put a plain read where other work reads the same memory.
    /// </summary>
    public static int ReadRange(byte* start, long bytes) => SumRange((int*)start, bytes / sizeof(int));

    private static T SumRange<T>(T* start, long count) where T : unmanaged, INumber<T>
    {
        long i = 0;
        T sum = T.Zero;
        if (Vector512.IsHardwareAccelerated)
        {
            // The widest loads: on a Zen 5 core they read 2–7% faster than 256-bit ones (alternating in one process).
            int n = Vector512<T>.Count;
            var a = Vector512<T>.Zero;
            var b = Vector512<T>.Zero;
            while (i + 2 * n <= count)
            {
                PrefetchPageAhead(start + i);
                for (long page = Math.Min(i + PageBytes / sizeof(T), count); i + 2 * n <= page; i += 2 * n)
                {
                    a += Vector512.Load(start + i);
                    b += Vector512.Load(start + i + n);
                }
            }
            sum = Vector512.Sum(a + b);
        }
        else
        {
            int n = Vector<T>.Count;
            var a = Vector<T>.Zero;
            var b = Vector<T>.Zero;
            while (i + 2 * n <= count)
            {
                PrefetchPageAhead(start + i);
                for (long page = Math.Min(i + PageBytes / sizeof(T), count); i + 2 * n <= page; i += 2 * n)
                {
                    a += Vector.Load(start + i);
                    b += Vector.Load(start + i + n);
                }
            }
            sum = Vector.Sum(a + b);
        }
        for (; i < count; i++) sum += start[i];
        return sum;
    }

    public void Dispose()
    {
        if (_buffer == null) return;
        NativeMemory.AlignedFree(_buffer);
        _buffer = null;
    }
}
