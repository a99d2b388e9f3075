using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Basalt.Benchmarks;

/// <summary>
/// Memory read bandwidth: 512 MiB (far past the caches) summed with SIMD by 1 or 2 threads, each reading
/// its own half. Decoding reads every weight once per token, so this is the ceiling for decode speed.
/// </summary>
[Config(typeof(Config))]
public class ReadBandwidthBenchmark
{
    private const int Bytes = 512 << 20;
    private nint _buffer;

    /// <summary>Threads reading.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Allocates and touches the buffer so that every page is mapped before timing.</summary>
    [GlobalSetup]
    public unsafe void Setup()
    {
        _buffer = (nint)NativeMemory.AlignedAlloc(Bytes, 4096);
        new Span<byte>((void*)_buffer, Bytes).Fill(1);
    }

    /// <summary>Frees the buffer.</summary>
    [GlobalCleanup]
    public unsafe void Cleanup() => NativeMemory.AlignedFree((void*)_buffer);

    /// <summary>Reads the whole buffer once.</summary>
    [Benchmark]
    public float Read()
    {
        var partial = new float[Threads];
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t => partial[t] = Sum(t));
        return partial.Sum();
    }

    private unsafe float Sum(int thread)
    {
        int share = Bytes / Threads / sizeof(float);
        var data = new ReadOnlySpan<float>((float*)_buffer + (long)share * thread, share);
        var a = Vector<float>.Zero;
        var b = Vector<float>.Zero;
        int n = Vector<float>.Count;
        for (int i = 0; i + 2 * n <= data.Length; i += 2 * n)
        {
            a += new Vector<float>(data.Slice(i, n));
            b += new Vector<float>(data.Slice(i + n, n));
        }
        return Vector.Sum(a + b);
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new RateColumn("GB/s", "Bytes (10^9) read per second: buffer size / mean time", _ => Bytes / 1e9));
    }
}
