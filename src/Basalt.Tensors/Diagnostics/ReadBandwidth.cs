using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Basalt.Tensors.Diagnostics;

/// <summary>
/// Memory read bandwidth: a buffer far larger than the caches (512 MiB by default), summed with the widest accelerated
/// vectors by one or more threads, each reading its own contiguous share. Decoding reads every weight once per token, so this is the
/// ceiling for decode speed. The buffer is native memory, written and then read a few times at construction so that
/// every page is mapped and warm before anything is timed; <see cref="Dispose"/> frees it.
/// </summary>
public sealed unsafe class ReadBandwidth : IDisposable
{
    private float* _buffer;

    /// <summary>Allocates and touches a buffer of <paramref name="bytes"/> bytes (a multiple of 4 KiB).</summary>
    public ReadBandwidth(long bytes = 512L << 20)
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
    /// first call with more than one thread also starts pool threads: make it untimed (<see cref="Read"/>).
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

    private float Sum(int thread, int threads)
    {
        // Each share a whole number of 64-byte lines (a share off a line would split every load across two).
        long floats = Bytes / sizeof(float), share = floats / threads / 16 * 16;
        long start = share * thread, end = thread == threads - 1 ? floats : start + share;
        long i = start;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // The widest loads: on a Zen 5 core they read 2–7% faster than 256-bit ones (alternating in one process).
            var a = Vector512<float>.Zero;
            var b = Vector512<float>.Zero;
            for (; i + 32 <= end; i += 32)
            {
                a += Vector512.Load(_buffer + i);
                b += Vector512.Load(_buffer + i + 16);
            }
            sum = Vector512.Sum(a + b);
        }
        else
        {
            var a = Vector<float>.Zero;
            var b = Vector<float>.Zero;
            int n = Vector<float>.Count;
            for (; i + 2 * n <= end; i += 2 * n)
            {
                a += Vector.Load(_buffer + i);
                b += Vector.Load(_buffer + i + n);
            }
            sum = Vector.Sum(a + b);
        }
        for (; i < end; i++) sum += _buffer[i];
        return sum;
    }

    public void Dispose()
    {
        if (_buffer == null) return;
        NativeMemory.AlignedFree(_buffer);
        _buffer = null;
    }
}
