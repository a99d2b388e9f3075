using System.Globalization;
using Basalt.Gguf;
using Basalt.Inference.Quantization;
using Basalt.Tensors;
using Basalt.Tensors.Quants;

namespace Basalt.Inference.Synthesis;

/// <summary>
/// Writes a random-weight Llama GGUF of a given <see cref="ModelShape"/> in any quantization preset: matrices drawn
/// from N(0, 0.02²) (approximately: a sum of four uniforms), norm weights 1, types chosen by llama.cpp's per-tensor
/// policy, and a real vocabulary copied from another GGUF. Tensors are generated and quantized one slice at a time
/// while the file is written, so memory stays small whatever the model's size, and the bytes depend only on the
/// seed, not on the number of threads.
/// </summary>
public static class RandomModelWriter
{
    /// <summary>Standard deviation of the random matrices.</summary>
    public const float WeightScale = 0.02f;

    // One random stream per slice of this many elements keeps the output independent of the thread count.
    private const int SliceElements = 1 << 16;
    private const int BatchElements = 1 << 22;

    /// <summary>
    /// Writes the model to <paramref name="outputPath"/> and returns the tensors in file order with their types.
    /// <paramref name="vocabularyPath"/> is a GGUF with <see cref="ModelShape.VocabularySize"/> tokens.
    /// </summary>
    public static IReadOnlyList<TensorPlan> Write(ModelShape shape, QuantizationPreset preset, string outputPath, string vocabularyPath,
        ulong seed = 0, Action<TensorPlan>? onTensor = null)
    {
        ArgumentNullException.ThrowIfNull(outputPath);
        using var vocabulary = GgufFile.Open(vocabularyPath);
        var writer = CreateMetadata(shape, preset, vocabulary);
        var plan = PlanTensors(shape, preset);
        for (int i = 0; i < plan.Count; i++)
        {
            var t = plan[i];
            ulong tensorSeed = Mix(seed, (ulong)i + 1);
            writer.AddTensor(t.Name, t.Dimensions, t.TargetType, stream =>
            {
                onTensor?.Invoke(t);
                if (t.Dimensions.Length == 1) WriteOnes(t, stream);
                else WriteRandom(t, tensorSeed, stream);
            });
        }
        using var output = new FileStream(outputPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        writer.WriteTo(output);
        return plan;
    }

    /// <summary>The tensors of <paramref name="shape"/> in llama.cpp's write order with the types <paramref name="preset"/> gives them.</summary>
    public static IReadOnlyList<TensorPlan> PlanTensors(ModelShape shape, QuantizationPreset preset)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(preset);
        shape.Validate();
        long e = shape.EmbeddingLength, kv = shape.KvDimension, ff = shape.FeedForwardLength;
        var tensors = new List<(string, long[], GgmlType)>
        {
            ("token_embd.weight", [e, shape.VocabularySize], GgmlType.F32),
            ("output_norm.weight", [e], GgmlType.F32),
        };
        if (!shape.TiedEmbeddings) tensors.Add(("output.weight", [e, shape.VocabularySize], GgmlType.F32));
        for (int l = 0; l < shape.LayerCount; l++)
        {
            string p = $"blk.{l}.";
            tensors.Add((p + "attn_norm.weight", [e], GgmlType.F32));
            tensors.Add((p + "attn_q.weight", [e, e], GgmlType.F32));
            tensors.Add((p + "attn_k.weight", [e, kv], GgmlType.F32));
            tensors.Add((p + "attn_v.weight", [e, kv], GgmlType.F32));
            tensors.Add((p + "attn_output.weight", [e, e], GgmlType.F32));
            tensors.Add((p + "ffn_norm.weight", [e], GgmlType.F32));
            tensors.Add((p + "ffn_gate.weight", [e, ff], GgmlType.F32));
            tensors.Add((p + "ffn_up.weight", [e, ff], GgmlType.F32));
            tensors.Add((p + "ffn_down.weight", [ff, e], GgmlType.F32));
        }
        var info = new QuantizationModelInfo("llama", shape.LayerCount, shape.HeadCount, shape.HeadCountKv);
        var plan = TensorTypePolicy.Plan(preset, info, tensors);
        foreach (var t in plan)
        {
            if (!WeightQuantizer.IsSupported(t.TargetType))
                throw new NotSupportedException($"Tensor '{t.Name}' would need {t.TargetType}, which Basalt cannot write yet.");
        }
        return plan;
    }

    /// <summary>
    /// A writer holding the model's metadata (Llama hyperparameters as convert_hf_to_gguf.py types them, file type,
    /// and every <c>tokenizer.*</c> pair of <paramref name="vocabulary"/>) and no tensors.
    /// </summary>
    public static GgufWriter CreateMetadata(ModelShape shape, QuantizationPreset preset, GgufFile vocabulary)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(vocabulary);
        shape.Validate();
        int tokens = vocabulary.Metadata.GetArray("tokenizer.ggml.tokens")?.Count
            ?? throw new ArgumentException($"{vocabulary.Path} has no tokenizer.ggml.tokens.", nameof(vocabulary));
        if (tokens != shape.VocabularySize)
            throw new ArgumentException($"Shape '{shape.Name}' needs {shape.VocabularySize} tokens; {vocabulary.Path} has {tokens}.", nameof(vocabulary));
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValueType.String, "llama");
        w.Add("general.name", GgufValueType.String, shape.Name);
        w.Add("general.description", GgufValueType.String, string.Create(CultureInfo.InvariantCulture,
            $"Random weights (N(0, {WeightScale}^2) matrices, unit norms) in the shape of {shape.Name}; written by basalt create-model."));
        w.Add("llama.vocab_size", GgufValueType.UInt32, (uint)shape.VocabularySize);
        w.Add("llama.context_length", GgufValueType.UInt32, (uint)shape.ContextLength);
        w.Add("llama.embedding_length", GgufValueType.UInt32, (uint)shape.EmbeddingLength);
        w.Add("llama.block_count", GgufValueType.UInt32, (uint)shape.LayerCount);
        w.Add("llama.feed_forward_length", GgufValueType.UInt32, (uint)shape.FeedForwardLength);
        w.Add("llama.rope.dimension_count", GgufValueType.UInt32, (uint)shape.HeadDimension);
        w.Add("llama.attention.head_count", GgufValueType.UInt32, (uint)shape.HeadCount);
        w.Add("llama.attention.head_count_kv", GgufValueType.UInt32, (uint)shape.HeadCountKv);
        w.Add("llama.rope.freq_base", GgufValueType.Float32, shape.RopeFreqBase);
        w.Add("llama.attention.layer_norm_rms_epsilon", GgufValueType.Float32, shape.RmsNormEpsilon);
        w.Add("general.file_type", GgufValueType.UInt32, (uint)preset.FileType);
        foreach (var (key, value) in vocabulary.Metadata.Entries)
        {
            if (key.StartsWith("tokenizer.", StringComparison.Ordinal)) w.Add(key, value);
        }
        w.Add("general.quantization_version", GgufValueType.UInt32, ModelQuantizer.QuantizationVersion);
        return w;
    }

    private static void WriteOnes(TensorPlan t, Stream stream)
    {
        var ones = new float[t.Dimensions[0]];
        ones.AsSpan().Fill(1f);
        var bytes = new byte[GgmlTypeInfo.Of(t.TargetType).RowBytes(ones.Length)];
        WeightQuantizer.Quantize(t.TargetType, ones, bytes);
        stream.Write(bytes);
    }

    private static void WriteRandom(TensorPlan t, ulong seed, Stream stream)
    {
        int cols = checked((int)t.Dimensions[0]);
        long rows = t.Dimensions[1];
        int rowBytes = checked((int)GgmlTypeInfo.Of(t.TargetType).RowBytes(cols));
        int sliceRows = Math.Max(1, SliceElements / cols);
        int batchRows = Math.Max(sliceRows, BatchElements / cols / sliceRows * sliceRows);
        var bytes = new byte[(long)batchRows * rowBytes];
        for (long r0 = 0; r0 < rows; r0 += batchRows)
        {
            int n = (int)Math.Min(batchRows, rows - r0);
            int slices = (n + sliceRows - 1) / sliceRows;
            long firstSlice = r0 / sliceRows;
            Parallel.For(0, slices, () => new float[sliceRows * cols], (s, _, floats) =>
            {
                int sr = s * sliceRows;
                int m = Math.Min(sliceRows, n - sr);
                var x = floats.AsSpan(0, m * cols);
                FillNormal(x, Mix(seed, (ulong)(firstSlice + s)));
                WeightQuantizer.Quantize(t.TargetType, x, bytes.AsSpan(sr * rowBytes, m * rowBytes));
                return floats;
            }, _ => { });
            stream.Write(bytes, 0, n * rowBytes);
        }
    }

    /// <summary>
    /// Approximately N(0, WeightScale²): each 64-bit draw gives four 16-bit uniforms whose centred sum has variance
    /// 4/12, rescaled. Far cheaper than Box-Muller, and a benchmark model needs only the scale to be right.
    /// </summary>
    private static void FillNormal(Span<float> x, ulong state)
    {
        float scale = WeightScale * MathF.Sqrt(3f) / 65536f;
        for (int i = 0; i < x.Length; i++)
        {
            ulong r = SplitMix(ref state);
            long sum = (long)(r & 0xFFFF) + (long)(r >> 16 & 0xFFFF) + (long)(r >> 32 & 0xFFFF) + (long)(r >> 48) - 2 * 65535;
            x[i] = sum * scale;
        }
    }

    private static ulong SplitMix(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Mix(ulong a, ulong b)
    {
        ulong s = a ^ (b * 0xD1B54A32D192ED03UL);
        return SplitMix(ref s);
    }
}
