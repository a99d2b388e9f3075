using Basalt.Gguf;
using Basalt.Tensors;
using Basalt.Tensors.Packed;
using Basalt.Tensors.Quants;

namespace Basalt.Inference.Model;

/// <summary>
/// A weight matrix viewed in place in the memory-mapped model file: <see cref="Rows"/> rows of
/// <see cref="Cols"/> elements of one ggml type. Only reads the file. Matrices that take part in products may be
/// repacked once into a <see cref="PackedMatrix"/> (see <see cref="Pack"/>); the products then run on that copy.
/// </summary>
public sealed unsafe class WeightTensor
{
    private readonly byte* _data;
    private readonly GgufFile _file;
    private readonly GgufTensorInfo _info;

    internal WeightTensor(GgufFile file, GgufTensorInfo info)
    {
        _file = file;
        _info = info;
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

    /// <summary>The repacked copy the products run on, or null when the rows are used in place.</summary>
    public PackedMatrix? Packed { get; private set; }

    /// <summary>
    /// Repacks the matrix into interleaved row groups when this CPU has packed kernels for its type and shape
    /// (see <see cref="PackedMatrix.CanPack"/>); otherwise does nothing. Call before products start, from one thread.
    /// </summary>
    public void Pack()
    {
        if (Packed is not null) return;
        Packed = PackedMatrix.TryPack(Type, _data, Rows, Cols, RowBytes);
        // The file's pages were read once for the copy; drop them from the resident set (rows read later, such as
        // a tied embedding's, come back from the page cache).
        if (Packed is not null) _file.ReleaseResidentPages(_info);
    }

    /// <summary>Frees the packed copy, if any; products go back to the rows in the file.</summary>
    public void ReleasePacked()
    {
        Packed?.Dispose();
        Packed = null;
    }

    /// <summary>Bytes that <see cref="QuantizeInput"/> writes: the activation format this weight type multiplies with.</summary>
    public int QuantizedInputBytes => Packed?.InputBytes ?? ActivationFormat.RowBytes(Type, Cols);

    /// <summary>
    /// Converts an input vector once into the form the kernels multiply with (Q8_0, Q8_1 or Q8_K blocks for
    /// quantized weights, as ggml does, laid out for the packed kernels when the matrix is packed), so every row reuses it.
    /// </summary>
    public void QuantizeInput(ReadOnlySpan<float> x, Span<byte> xq)
    {
        if (Packed is { } packed) packed.PrepareInput(x[..Cols], xq[..packed.InputBytes]);
        else FastKernels.QuantizeActivations(Type, x[..Cols], xq[..QuantizedInputBytes]);
    }

    /// <summary>y[r - rowStart] = row r · x for rows [rowStart, rowEnd), with x prepared by <see cref="QuantizeInput"/>.</summary>
    public void MatVec(ReadOnlySpan<byte> xq, Span<float> y, int rowStart, int rowEnd)
    {
        if (Packed is { } packed)
        {
            MatVecPacked(packed, xq, y, rowStart, rowEnd);
            return;
        }
        FastKernels.MatVecRows(Type, new ReadOnlySpan<byte>(_data + (long)rowStart * RowBytes, checked((rowEnd - rowStart) * RowBytes)), RowBytes, 0, rowEnd - rowStart, xq[..QuantizedInputBytes], y);
    }

    /// <summary>
    /// Y[i, r] = row r · input i for <paramref name="count"/> inputs prepared by <see cref="QuantizeInput"/>
    /// (<paramref name="inputStride"/> bytes apart) and the rows of packed groups [groupStart, groupEnd);
    /// Y rows are <paramref name="yStride"/> floats apart. Only for a packed matrix.
    /// </summary>
    internal void MultiplyPacked(ReadOnlySpan<byte> inputs, int inputStride, int count, int groupStart, int groupEnd, Span<float> y, int yStride) =>
        Packed!.Multiply(inputs, inputStride, count, groupStart, groupEnd, y, yStride);

    private static void MatVecPacked(PackedMatrix packed, ReadOnlySpan<byte> xq, Span<float> y, int rowStart, int rowEnd)
    {
        const int g = PackedMatrix.GroupRows;
        if (rowStart < 0 || rowEnd < rowStart || rowEnd > packed.Rows)
            throw new ArgumentOutOfRangeException(nameof(rowEnd), $"Bad row range [{rowStart}, {rowEnd}) of {packed.Rows}.");
        if (y.Length < rowEnd - rowStart) throw new ArgumentException($"y has {y.Length} elements, need {rowEnd - rowStart}.", nameof(y));
        Span<float> group = stackalloc float[g];
        for (int r = rowStart; r < rowEnd;)
        {
            int first = r / g * g, take = Math.Min(rowEnd, first + g) - r;
            packed.Multiply(xq, packed.InputBytes, 1, first / g, first / g + 1, group, g);
            group.Slice(r - first, take).CopyTo(y[(r - rowStart)..]);
            r += take;
        }
    }

    /// <summary>
    /// The plain reference product y = W·x on the scalar kernels: x is converted to the weight type's
    /// activation format as ggml does, then each row is dotted with it.
    /// </summary>
    public void MatVecReference(ReadOnlySpan<float> x, Span<float> y)
    {
        var xq = new byte[ActivationFormat.RowBytes(Type, Cols)];
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
