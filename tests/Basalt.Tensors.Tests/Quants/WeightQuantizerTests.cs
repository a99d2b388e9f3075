using Basalt.Gguf;
using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Tests.Quants;

/// <summary>
/// The weight quantizers against llama.cpp: every tensor of the tiny-random-256 files (made by llama-quantize from the
/// F32 file with no importance matrix) must be reproduced byte for byte from the F32 weights; and a quantize →
/// dequantize round trip on random rows must stay within each type's usual error.
/// </summary>
public class WeightQuantizerTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files => new(
        "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q3_K_M", "Q4_K_M", "Q5_K_M");

    public static TheoryData<GgmlType> Types => new(WeightQuantizer.SupportedTypes);

    private static string ModelPath(string type) => SharedData.Path("models", "quant", $"tiny-random-256.{type}.gguf");

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryTensor_MatchesLlamaQuantizeByteForByte(string fileType)
    {
        using var f32 = GgufFile.Open(ModelPath("F32"));
        using var file = GgufFile.Open(ModelPath(fileType));
        long blocks = 0, mismatched = 0;
        foreach (var tensor in file.Tensors)
        {
            var original = f32.FindTensor(tensor.Name) ?? throw new InvalidOperationException($"{tensor.Name} missing from the F32 file");
            var source = new float[original.ElementCount];
            ReferenceKernels.Dequantize(GgmlType.F32, f32.GetTensorData(original), source);
            var mine = new byte[tensor.ByteSize];
            WeightQuantizer.Quantize(tensor.Type, source, mine);
            var theirs = file.GetTensorData(tensor);
            var info = GgmlTypeInfo.Of(tensor.Type);
            int blockBytes = info.BytesPerBlock;
            for (long b = 0; b < mine.Length / blockBytes; b++)
            {
                blocks++;
                if (!mine.AsSpan((int)(b * blockBytes), blockBytes).SequenceEqual(theirs.Slice((int)(b * blockBytes), blockBytes)))
                {
                    if (mismatched < 5) output.WriteLine($"{tensor.Name} ({tensor.Type}) block {b} differs");
                    mismatched++;
                }
            }
        }
        output.WriteLine($"{fileType}: {mismatched} of {blocks} blocks differ");
        Assert.Equal(0, mismatched);
    }

    // Relative RMS error bounds on N(0, 1) rows, each about 25% above the value measured (in the comment); a wrong
    // packing or scale lands near 1.
    private static readonly Dictionary<GgmlType, double> RoundTripBounds = new()
    {
        [GgmlType.F32] = 0,
        [GgmlType.F16] = 2.6e-4,
        [GgmlType.BF16] = 2.1e-3,
        [GgmlType.Q8_0] = 6.7e-3,
        [GgmlType.Q4_0] = 0.108,
        [GgmlType.Q4_1] = 0.098,
        [GgmlType.Q5_0] = 0.054,
        [GgmlType.Q5_1] = 0.048,
        [GgmlType.Q2_K] = 0.37,
        [GgmlType.Q3_K] = 0.19,
        [GgmlType.Q4_K] = 0.09,
        [GgmlType.Q5_K] = 0.045,
        [GgmlType.Q6_K] = 0.022,
    };

    [Theory]
    [MemberData(nameof(Types))]
    public void RoundTrip_StaysWithinTheTypesUsualError(GgmlType type)
    {
        var rng = new Random(42 + (int)type);
        const int n = 256 * 64;
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        var q = new byte[GgmlTypeInfo.Of(type).RowBytes(n)];
        WeightQuantizer.Quantize(type, x, q);
        var y = new float[n];
        ReferenceKernels.Dequantize(type, q, y);
        double err = 0, norm = 0;
        for (int i = 0; i < n; i++)
        {
            err += (x[i] - y[i]) * (double)(x[i] - y[i]);
            norm += x[i] * (double)x[i];
        }
        double rel = Math.Sqrt(err / norm);
        output.WriteLine($"{type}: relative RMS error {rel:E3}");
        Assert.True(rel <= RoundTripBounds[type], $"{type}: {rel} > {RoundTripBounds[type]}");
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void ZeroRows_QuantizeToZeros(GgmlType type)
    {
        int n = GgmlTypeInfo.Of(type).BlockSize == 1 ? 64 : 256;
        var q = new byte[GgmlTypeInfo.Of(type).RowBytes(n)];
        q.AsSpan().Fill(0xAB);
        WeightQuantizer.Quantize(type, new float[n], q);
        var y = new float[n];
        ReferenceKernels.Dequantize(type, q, y);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void QuantizeRows_EqualsOneCallOverTheWholeMatrix()
    {
        var rng = new Random(7);
        const int rows = 37, cols = 512;
        var x = RandomRows.Floats(rng, rows * cols);
        int rowBytes = (int)GgmlTypeInfo.Of(GgmlType.Q4_K).RowBytes(cols);
        var whole = new byte[rows * rowBytes];
        var threaded = new byte[rows * rowBytes];
        WeightQuantizer.Quantize(GgmlType.Q4_K, x, whole);
        WeightQuantizer.QuantizeRows(GgmlType.Q4_K, x, threaded, rows, cols);
        Assert.Equal(whole, threaded);
    }

    [Fact]
    public void UnsupportedTypesAndPartialBlocks_AreRejected()
    {
        Assert.Throws<NotSupportedException>(() => WeightQuantizer.Quantize(GgmlType.IQ4_NL, new float[32], new byte[18]));
        Assert.Throws<ArgumentException>(() => WeightQuantizer.Quantize(GgmlType.Q4_0, new float[33], new byte[36]));
        Assert.Throws<ArgumentException>(() => WeightQuantizer.Quantize(GgmlType.Q4_K, new float[256], new byte[143]));
    }
}
