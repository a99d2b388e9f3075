using Basalt.Tensors;

namespace Basalt.Gguf;

/// <summary>One tensor's descriptor: name, shape (ggml order: <c>Dimensions[0]</c> is the contiguous row length), type and where its bytes lie.</summary>
/// <param name="Name">The tensor name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Dimensions">Extent of each dimension, innermost first.</param>
/// <param name="Type">Element type.</param>
/// <param name="Offset">Byte offset relative to the start of the data section.</param>
public sealed record GgufTensorInfo(string Name, long[] Dimensions, GgmlType Type, long Offset)
{
    /// <summary>Total number of elements.</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Dimensions) n *= d;
            return n;
        }
    }

    /// <summary>Bytes the tensor's data occupies.</summary>
    public long ByteSize => GgmlTypeInfo.Of(Type).RowBytes(ElementCount);

    /// <summary>Shape written the way llama.cpp prints it, e.g. <c>288 x 32000</c>.</summary>
    public string ShapeText => string.Join(" x ", Dimensions);
}
