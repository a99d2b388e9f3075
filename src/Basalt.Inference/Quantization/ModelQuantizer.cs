using Basalt.Gguf;
using Basalt.Tensors;
using Basalt.Tensors.Quants;

namespace Basalt.Inference.Quantization;

/// <summary>
/// Converts a GGUF model to a quantization preset as <c>llama-quantize</c> does without an importance matrix: same
/// per-tensor types, same tensor order, same metadata (with <c>general.file_type</c> and
/// <c>general.quantization_version</c> updated), and, from an F32 source, the same bytes.
/// </summary>
public static class ModelQuantizer
{
    /// <summary>The <c>general.quantization_version</c> llama.cpp writes (ggml's GGML_QNT_VERSION).</summary>
    public const uint QuantizationVersion = 2;

    // Bounds the f32 staging buffer of one conversion step (16 MiB of floats) whatever the tensor's size.
    private const int MaxChunkElements = 4 << 20;

    /// <summary>Plans <paramref name="input"/>'s conversion: every tensor in write order with its target type.</summary>
    public static IReadOnlyList<TensorPlan> Plan(GgufFile input, QuantizationPreset preset, bool pure = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        var model = QuantizationModelInfo.FromMetadata(input.Metadata);
        return TensorTypePolicy.Plan(preset, model, input.Tensors.Select(t => (t.Name, t.Dimensions, t.Type)), pure);
    }

    /// <summary>
    /// Writes <paramref name="inputPath"/> converted to <paramref name="preset"/> into <paramref name="outputPath"/> and
    /// returns the plan it followed. Tensors that are already block-quantized are converted only with
    /// <paramref name="allowRequantize"/> (as llama-quantize's flag of that name), since that compounds the error.
    /// </summary>
    public static IReadOnlyList<TensorPlan> Quantize(string inputPath, string outputPath, QuantizationPreset preset,
        bool pure = false, bool allowRequantize = false, Action<TensorPlan>? onTensor = null)
    {
        ArgumentNullException.ThrowIfNull(inputPath);
        ArgumentNullException.ThrowIfNull(outputPath);
        ArgumentNullException.ThrowIfNull(preset);
        if (string.Equals(Path.GetFullPath(inputPath), Path.GetFullPath(outputPath), StringComparison.Ordinal))
            throw new ArgumentException("The output file must differ from the input file.", nameof(outputPath));
        using var input = GgufFile.Open(inputPath);
        var plan = Plan(input, preset, pure);
        foreach (var t in plan)
        {
            if (!t.Converts) continue;
            if (!WeightQuantizer.IsSupported(t.TargetType))
                throw new NotSupportedException($"Tensor '{t.Name}' would need {t.TargetType}, which Basalt cannot write yet.");
            if (GgmlTypeInfo.Of(t.SourceType).IsQuantized && !allowRequantize)
                throw new NotSupportedException($"Tensor '{t.Name}' is already {t.SourceType}; requantizing loses accuracy, so it needs allowRequantize.");
        }

        var writer = new GgufWriter(input.Version);
        CopyMetadata(input.Metadata, writer, preset.FileType);
        foreach (var t in plan)
        {
            var source = input.FindTensor(t.Name)!;
            writer.AddTensor(t.Name, t.Dimensions, t.TargetType, stream =>
            {
                onTensor?.Invoke(t);
                if (t.Converts) WriteConverted(input, source, t.TargetType, stream);
                else WriteRaw(input, source, stream);
            });
        }
        using var output = new FileStream(outputPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        writer.WriteTo(output);
        return plan;
    }

    /// <summary>
    /// Copies every metadata pair except split bookkeeping, then appends <c>general.quantization_version</c> and
    /// <c>general.file_type</c> (as llama.cpp does: an existing key is removed and the new value goes last).
    /// </summary>
    public static void CopyMetadata(GgufMetadata source, GgufWriter writer, LlamaFileType fileType)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(writer);
        string[] dropped = ["split.no", "split.count", "split.tensors.count", "general.quantization_version", "general.file_type"];
        foreach (var (key, value) in source.Entries)
        {
            if (!dropped.Contains(key)) writer.Add(key, value);
        }
        writer.Add("general.quantization_version", GgufValueType.UInt32, QuantizationVersion);
        writer.Add("general.file_type", GgufValueType.UInt32, (uint)fileType);
    }

    private static unsafe void WriteRaw(GgufFile input, GgufTensorInfo tensor, Stream stream)
    {
        byte* p = input.GetTensorPointer(tensor);
        long left = tensor.ByteSize;
        while (left > 0)
        {
            int chunk = (int)Math.Min(left, 1 << 30);
            stream.Write(new ReadOnlySpan<byte>(p, chunk));
            p += chunk;
            left -= chunk;
        }
    }

    private static unsafe void WriteConverted(GgufFile input, GgufTensorInfo tensor, GgmlType target, Stream stream)
    {
        int cols = checked((int)tensor.Dimensions[0]);
        long rows = tensor.ElementCount / cols;
        int srcRowBytes = checked((int)GgmlTypeInfo.Of(tensor.Type).RowBytes(cols));
        int dstRowBytes = checked((int)GgmlTypeInfo.Of(target).RowBytes(cols));
        int rowsPerChunk = (int)Math.Max(1, Math.Min(rows, MaxChunkElements / cols));
        var floats = new float[(long)rowsPerChunk * cols];
        var bytes = new byte[(long)rowsPerChunk * dstRowBytes];
        byte* src = input.GetTensorPointer(tensor);
        for (long r0 = 0; r0 < rows; r0 += rowsPerChunk)
        {
            int n = (int)Math.Min(rowsPerChunk, rows - r0);
            for (int r = 0; r < n; r++)
            {
                var row = new ReadOnlySpan<byte>(src + (r0 + r) * srcRowBytes, srcRowBytes);
                ReferenceKernels.Dequantize(tensor.Type, row, floats.AsSpan(r * cols, cols));
            }
            WeightQuantizer.QuantizeRows(target, floats.AsMemory(0, n * cols), bytes.AsMemory(0, n * dstRowBytes), n, cols);
            stream.Write(bytes, 0, n * dstRowBytes);
        }
    }
}
