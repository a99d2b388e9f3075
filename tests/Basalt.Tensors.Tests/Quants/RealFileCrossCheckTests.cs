using Basalt.Gguf;
using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Tests.Quants;

/// <summary>
/// The tiny-random-256 files hold the same random weights in every type (made by llama-quantize from the F32 file),
/// so dequantizing any tensor must land close to the F32 tensor. A wrong block layout, nibble order or scale packing
/// gives a relative RMS error near 1 or above, far outside every bound below.
/// </summary>
public class RealFileCrossCheckTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files => new(
        "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q3_K_M", "Q4_K_M", "Q5_K_M");

    // Bounds on the relative RMS error ‖deq − f32‖ / ‖f32‖ of each tensor, by the tensor's own type. The weights are
    // Gaussian, so the error hardly varies between tensors: the comments give the range measured over every tensor
    // of that type in all files, and each bound is the maximum plus about 25% (tight enough that a wrong scale, bias
    // or bit plane in any sub-block fails). F16 and BF16 sit where round-to-nearest predicts: an error uniform over
    // ±half an ulp gives about 2^-11·1.4/√3 ≈ 2e-4 (11-bit significand) and 2^-8·1.4/√3 ≈ 1.6e-3 (8-bit).
    private static readonly Dictionary<GgmlType, double> Bounds = new()
    {
        [GgmlType.F32] = 0,
        [GgmlType.F16] = 2.6e-4,  // 2.06e-4 .. 2.09e-4
        [GgmlType.BF16] = 2.1e-3, // 1.65e-3 .. 1.67e-3
        [GgmlType.Q8_0] = 6.7e-3, // 5.30e-3 .. 5.39e-3
        [GgmlType.Q4_0] = 0.108,  // 0.0854 .. 0.0865
        [GgmlType.Q4_1] = 0.098,  // 0.0775 .. 0.0786
        [GgmlType.Q5_0] = 0.054,  // 0.0423 .. 0.0431
        [GgmlType.Q5_1] = 0.048,  // 0.0376 .. 0.0380
        [GgmlType.Q2_K] = 0.37,   // 0.295 .. 0.299
        [GgmlType.Q3_K] = 0.19,   // 0.150 .. 0.152
        [GgmlType.Q4_K] = 0.09,   // 0.0707 .. 0.0716
        [GgmlType.Q5_K] = 0.045,  // 0.0359 .. 0.0363
        [GgmlType.Q6_K] = 0.022,  // 0.0176 .. 0.0178
    };

    private static string ModelPath(string type) => SharedData.Path("models", "quant", $"tiny-random-256.{type}.gguf");

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryTensor_DequantizesCloseToTheF32File(string fileType)
    {
        using var f32 = GgufFile.Open(ModelPath("F32"));
        using var file = GgufFile.Open(ModelPath(fileType));
        Assert.Equal(f32.Tensors.Count, file.Tensors.Count);
        var failures = new List<string>();
        foreach (var tensor in file.Tensors)
        {
            var original = f32.FindTensor(tensor.Name) ?? throw new InvalidOperationException($"{tensor.Name} missing from the F32 file");
            Assert.Equal(original.Dimensions, tensor.Dimensions);
            int rowLength = (int)tensor.Dimensions[0];
            int rows = (int)(tensor.ElementCount / rowLength);
            int rowBytes = (int)GgmlTypeInfo.Of(tensor.Type).RowBytes(rowLength);
            var data = file.GetTensorData(tensor);
            var expected = new float[tensor.ElementCount];
            ReferenceKernels.Dequantize(GgmlType.F32, f32.GetTensorData(original), expected);

            var reference = new float[rowLength];
            var fast = new float[rowLength];
            double errorSquares = 0, signalSquares = 0;
            for (int r = 0; r < rows; r++)
            {
                var row = data.Slice(r * rowBytes, rowBytes);
                ReferenceKernels.Dequantize(tensor.Type, row, reference);
                FastKernels.Dequantize(tensor.Type, row, fast);
                Assert.True(reference.AsSpan().SequenceEqual(fast), $"{fileType} {tensor.Name} row {r}: fast dequantize differs from reference");
                for (int i = 0; i < rowLength; i++)
                {
                    double e = expected[r * rowLength + i];
                    errorSquares += (reference[i] - e) * (reference[i] - e);
                    signalSquares += e * e;
                }
            }
            double relative = Math.Sqrt(errorSquares / signalSquares);
            output.WriteLine($"{fileType,-7} {tensor.Name,-26} {tensor.Type,-5} relative RMS error {relative:E3}");
            if (!(relative <= Bounds[tensor.Type]))
                failures.Add($"{fileType} {tensor.Name} ({tensor.Type}): relative RMS error {relative:E3} exceeds {Bounds[tensor.Type]:E3}");
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void MatVec_OnRealWeights_FastMatchesReference(string fileType)
    {
        using var file = GgufFile.Open(ModelPath(fileType));
        var rng = new Random(11);
        foreach (var tensor in file.Tensors.Where(t => t.Dimensions.Length == 2))
        {
            int cols = (int)tensor.Dimensions[0];
            int rows = (int)tensor.Dimensions[1];
            var x = RandomRows.Floats(rng, cols);
            var fast = new float[rows];
            var reference = new float[rows];
            FastKernels.MatVec(tensor.Type, file.GetTensorData(tensor), rows, cols, x, fast);
            ReferenceKernels.MatVec(tensor.Type, file.GetTensorData(tensor), rows, cols, x, reference);
            for (int r = 0; r < rows; r++)
            {
                // Loose here (the random-row tests hold the rigorous per-type bounds): only reordering differs.
                double tolerance = 1e-4 * (1 + Math.Abs(reference[r]));
                Assert.True(Math.Abs(fast[r] - reference[r]) <= tolerance, $"{fileType} {tensor.Name} row {r}: {fast[r]:R} vs {reference[r]:R}");
            }
        }
    }
}
