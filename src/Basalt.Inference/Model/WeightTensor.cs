using System.Numerics.Tensors;
using Basalt.Gguf;
using Basalt.Tensors;

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
    public void ReadRow(int row, Span<float> destination) => RowDequantizer.Dequantize(Type, Row(row), destination[..Cols]);

    /// <summary>y = W·x for rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>), using <paramref name="scratch"/> (≥ Cols floats) for one dequantized row.</summary>
    public void MatVec(ReadOnlySpan<float> x, Span<float> y, Span<float> scratch, int rowStart = 0, int rowEnd = -1)
    {
        if (rowEnd < 0) rowEnd = Rows;
        var row = scratch[..Cols];
        for (int r = rowStart; r < rowEnd; r++)
        {
            ReadRow(r, row);
            y[r - rowStart] = TensorPrimitives.Dot(row, x[..Cols]);
        }
    }

    /// <summary>A vector tensor (norm weight or bias) as floats.</summary>
    public float[] ToFloatArray()
    {
        var result = new float[(long)Rows * Cols];
        for (int r = 0; r < Rows; r++) ReadRow(r, result.AsSpan(r * Cols, Cols));
        return result;
    }
}
