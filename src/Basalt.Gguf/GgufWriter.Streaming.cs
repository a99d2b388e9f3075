using Basalt.Tensors;

namespace Basalt.Gguf;

// Tensors whose bytes are produced only while the file is written, so a writer of a multi-gigabyte model holds one
// tensor (or less) in memory at a time instead of all of them.
public sealed partial class GgufWriter
{
    /// <summary>
    /// Appends a tensor whose data <paramref name="writeData"/> writes to the given stream when the file is written
    /// (tensors are produced in the order added). It must write exactly the tensor's byte size; the stream accepts
    /// writes only and is valid only during the call.
    /// </summary>
    public GgufWriter AddTensor(string name, long[] dimensions, GgmlType type, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(writeData);
        if (_explicitOffsets) throw new InvalidOperationException("Tensors with explicit offsets and packed tensors cannot be mixed.");
        var info = MakeInfo(name, dimensions, type, offset: 0);
        if (!_tensorNames.Add(name)) throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        _tensors.Add(new PendingTensor(info, default, null, writeData));
        return this;
    }

    private static void WriteProduced(GgufStreamWriter w, Action<Stream> producer, GgufTensorInfo info)
    {
        using var sink = new TensorDataStream(w);
        producer(sink);
        if (sink.Written != info.ByteSize)
            throw new InvalidOperationException($"Tensor '{info.Name}' ({info.Type}, {info.ShapeText}) needs {info.ByteSize} bytes of data; its producer wrote {sink.Written}.");
    }
}
