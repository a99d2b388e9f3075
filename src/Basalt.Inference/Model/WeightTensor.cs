using Basalt.Gguf;
using Basalt.Tensors;
using Basalt.Tensors.Quants;

namespace Basalt.Inference.Model;

/// <summary>
/// A weight matrix viewed in place in the memory-mapped model file: <see cref="Rows"/> rows of
/// <see cref="Cols"/> elements of one ggml type. Only reads; never copies the file's bytes.
/// </summary>
public sealed unsafe class WeightTensor
{
    private readonly byte* _data;

    internal WeightTensor(GgufFile file, GgufTensorInfo info)
    {
        Name = info.Name;
        Type = info.Type;
        Cols = (int)info.Dimensions[0];
        long rows = info.ElementCount / Cols;
        if (rows > int.MaxValue) throw new ModelFormatException($"{file.Path}: tensor {info.Name} has {rows} rows; at most 2^31-1 are supported.");
        Rows = (int)rows;
        RowBytes = (int)GgmlTypeInfo.Of(Type).RowBytes(Cols);
        _data = file.GetTensorPointer(info);
    }

    /// <summary>Tensor name in the file.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public GgmlType Type { get; }

    /// <summary>Number of rows (output features).</summary>
    public int Rows { get; }

    /// <summary>Elements per row (input features).</summary>
    public int Cols { get; }

    /// <summary>Bytes per row.</summary>
    public int RowBytes { get; }

    /// <summary>The raw bytes of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<byte> Row(int row) => new(_data + (long)row * RowBytes, RowBytes);

    /// <summary>Row <paramref name="row"/> as floats.</summary>
    public void ReadRow(int row, Span<float> destination) => FastKernels.Dequantize(Type, Row(row), destination[..Cols]);

    /// <summary>Bytes that <see cref="QuantizeInput"/> writes: the activation format this weight type multiplies with.</summary>
    public int QuantizedInputBytes => ActivationFormat.RowBytes(Type, Cols);

    /// <summary>
    /// Converts an input vector once into the form the row kernels multiply with (Q8_0, Q8_1 or Q8_K
    /// blocks for quantized weights, as ggml does), so every row reuses it.
    /// </summary>
    public void QuantizeInput(ReadOnlySpan<float> x, Span<byte> xq) => FastKernels.QuantizeActivations(Type, x[..Cols], xq[..QuantizedInputBytes]);

    /// <summary>y[r - rowStart] = row r · x for rows [rowStart, rowEnd), with x prepared by <see cref="QuantizeInput"/>.</summary>
    public void MatVec(ReadOnlySpan<byte> xq, Span<float> y, int rowStart, int rowEnd) =>
        FastKernels.MatVecRows(Type, new ReadOnlySpan<byte>(_data + (long)rowStart * RowBytes, checked((rowEnd - rowStart) * RowBytes)), RowBytes, 0, rowEnd - rowStart, xq[..QuantizedInputBytes], y);

    /// <summary>
    /// The plain reference product y = W·x on the scalar kernels: x is converted to the weight type's
    /// activation format as ggml does, then each row is dotted with it.
    /// </summary>
    public void MatVecReference(ReadOnlySpan<float> x, Span<float> y)
    {
        var xq = new byte[QuantizedInputBytes];
        ReferenceKernels.QuantizeActivations(Type, x[..Cols], xq);
        for (int r = 0; r < Rows; r++) y[r] = ReferenceKernels.DotQuantized(Type, Row(r), xq);
    }

    /// <summary>A vector tensor (norm weight or bias) as floats.</summary>
    public float[] ToFloatArray()
    {
        var result = new float[(long)Rows * Cols];
        for (int r = 0; r < Rows; r++) ReadRow(r, result.AsSpan(r * Cols, Cols));
        return result;
    }
}
