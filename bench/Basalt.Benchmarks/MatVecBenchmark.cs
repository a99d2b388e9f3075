using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Basalt.Tensors;
using Basalt.Tensors.Packed;
using Basalt.Tensors.Quants;

namespace Basalt.Benchmarks;

/// <summary>
/// Single-threaded decode GEMV, y = W·x, over a random weight matrix of each type. Several copies of the matrix
/// (together well past the 32 MiB L3) are used in turn, so every operation streams its weights from memory as a
/// decode step does. The GB/s column is weight bytes (10^9) consumed per second, from the mean time.
/// </summary>
[Config(typeof(BandwidthConfig))]
public class MatVecBenchmark
{
    /// <summary>Bytes the copies of the matrix should add up to, so that none is still cached when it comes round again.</summary>
    private const long WorkingSetBytes = 160L << 20;

    private byte[][] _copies = [];
    private PackedMatrix[] _packed = [];
    private byte[] _packedInput = [];
    private byte[] _xq = [];
    private float[] _y = [];
    private int _next;

    /// <summary>Weight type.</summary>
    [Params(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16)]
    public GgmlType Type { get; set; }

    /// <summary>Rows × columns.</summary>
    [Params("5632x2048", "2048x5632")]
    public string Shape { get; set; } = "";

    private (int Rows, int Cols) Size => ParseShape(Shape);

    private int RowBytes => (int)GgmlTypeInfo.Of(Type).RowBytes(Size.Cols);

    /// <summary>Builds the random matrix copies and the quantized activations.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (rows, cols) = Size;
        var rng = new Random(42);
        long matrixBytes = (long)RowBytes * rows;
        int copies = (int)Math.Max(2, (WorkingSetBytes + matrixBytes - 1) / matrixBytes);
        _copies = new byte[copies][];
        for (int c = 0; c < copies; c++) _copies[c] = RandomMatrix(Type, rows * (long)cols, rng);
        var x = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        _xq = new byte[ActivationFormat.RowBytes(Type, cols)];
        FastKernels.QuantizeActivations(Type, x, _xq);
        _y = new float[rows];
        if (PackedMatrix.CanPack(Type, rows, cols))
        {
            _packed = _copies.Select(c => Pack(c, rows, cols)).ToArray();
            _packedInput = new byte[_packed[0].InputBytes];
            _packed[0].PrepareInput(x, _packedInput);
        }
    }

    private unsafe PackedMatrix Pack(byte[] copy, int rows, int cols)
    {
        fixed (byte* w = copy) return PackedMatrix.TryPack(Type, w, rows, cols, RowBytes)!;
    }

    /// <summary>Frees the packed copies.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var p in _packed) p.Dispose();
    }

    /// <summary>One <see cref="FastKernels.DotQuantized"/> call per row, as the model did before MatVecRows.</summary>
    [Benchmark(Baseline = true)]
    public float DotPerRow()
    {
        var w = NextCopy();
        int rowBytes = RowBytes;
        for (int r = 0; r < _y.Length; r++) _y[r] = FastKernels.DotQuantized(Type, w.AsSpan(r * rowBytes, rowBytes), _xq);
        return _y[0];
    }

    /// <summary>All rows in one <see cref="FastKernels.MatVecRows"/> call, as <c>WeightTensor.MatVec</c> does.</summary>
    [Benchmark]
    public float MatVecRows()
    {
        FastKernels.MatVecRows(Type, NextCopy(), RowBytes, 0, _y.Length, _xq, _y);
        return _y[0];
    }

    /// <summary>The load-time repacked matrix (sixteen-row groups), one input, as a packed <c>WeightTensor</c> decodes.</summary>
    [Benchmark]
    public float Packed()
    {
        if (_packed.Length == 0) return 0; // no packed kernel for this type
        var p = _packed[_next];
        _next = (_next + 1) % _packed.Length;
        p.Multiply(_packedInput, _packedInput.Length, 1, 0, p.Groups, _y, _y.Length);
        return _y[0];
    }

    private byte[] NextCopy()
    {
        var w = _copies[_next];
        _next = (_next + 1) % _copies.Length;
        return w;
    }

    internal static (int Rows, int Cols) ParseShape(string shape)
    {
        var parts = shape.Split('x');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>Random quant bits with finite fp16 scale fields; random finite values for the float types.</summary>
    private static byte[] RandomMatrix(GgmlType type, long elements, Random rng)
    {
        var info = GgmlTypeInfo.Of(type);
        var data = new byte[info.RowBytes(elements)];
        rng.NextBytes(data);
        if (type is GgmlType.F16 or GgmlType.BF16)
        {
            // Clearing the top exponent bit keeps every value finite and below 2 in magnitude (f16), or small (bf16).
            for (int i = 1; i < data.Length; i += 2) data[i] &= 0xBF;
            return data;
        }
        if (type == GgmlType.F32)
        {
            for (int i = 3; i < data.Length; i += 4) data[i] &= 0xBF;
            return data;
        }
        int[] halves = type switch
        {
            GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => [0],
            GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
            GgmlType.Q2_K => [80, 82],
            GgmlType.Q3_K => [108],
            GgmlType.Q6_K => [208],
            _ => [],
        };
        for (long b = 0; b < data.Length / info.BytesPerBlock; b++)
            foreach (int offset in halves)
                FloatConversions.WriteHalf(data.AsSpan((int)(b * info.BytesPerBlock + offset)), (float)(rng.NextDouble() * 0.02 - 0.01));
        return data;
    }

    /// <summary>Adds the GB/s column: weight bytes (10^9) consumed per second.</summary>
    private sealed class BandwidthConfig : ManualConfig
    {
        public BandwidthConfig() => AddColumn(new RateColumn("GB/s", "Weight bytes (10^9) read per second: matrix bytes / mean time", c =>
        {
            var type = (GgmlType)c.Parameters[nameof(Type)]!;
            var (rows, cols) = ParseShape((string)c.Parameters[nameof(Shape)]!);
            return GgmlTypeInfo.Of(type).RowBytes(cols) * (double)rows / 1e9;
        }));
    }
}
