using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Basalt.Tensors.Diagnostics;

namespace Basalt.Benchmarks;

/// <summary>
/// Memory read bandwidth (<see cref="ReadBandwidth"/>): 512 MiB, far past the caches, summed with SIMD by 1 or 2
/// threads, each reading its own half. Decoding reads every weight once per token, so this is the ceiling for decode
/// speed. <c>basalt bench --bandwidth</c> runs the same read around each generation run.
/// </summary>
[Config(typeof(Config))]
public class ReadBandwidthBenchmark
{
    private ReadBandwidth? _probe;

    /// <summary>Threads reading.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Allocates and touches the buffer so that every page is mapped before timing.</summary>
    [GlobalSetup]
    public void Setup() => _probe = new ReadBandwidth();

    /// <summary>Frees the buffer.</summary>
    [GlobalCleanup]
    public void Cleanup() => _probe?.Dispose();

    /// <summary>Reads the whole buffer once.</summary>
    [Benchmark]
    public float Read() => _probe!.Read(Threads);

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new RateColumn("GB/s", "Bytes (10^9) read per second: buffer size / mean time", _ => ReadBandwidth.DefaultBytes / 1e9));
    }
}
