using Basalt.Tensors;

namespace Basalt.Gguf;

/// <summary>
/// Builds a GGUF file: metadata in the order added (each value keeps its exact type tag) and tensors
/// whose data is packed after the tensor infos, each padded to the file's alignment with zero bytes.
/// The layout matches what llama.cpp writes, so reading a llama.cpp file and writing it back yields
/// the same bytes.
/// </summary>
public sealed partial class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);
    private bool _explicitOffsets;

    /// <summary>Creates an empty writer for the given format version (2 or 3; both share one layout).</summary>
    public GgufWriter(uint version = 3)
    {
        if (version is not (2 or 3)) throw new ArgumentOutOfRangeException(nameof(version), version, "Only GGUF versions 2 and 3 can be written.");
        Version = version;
    }

    /// <summary>The version written into the header.</summary>
    public uint Version { get; }

    /// <summary>Metadata pairs in the order they will be written.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => _metadata;

    /// <summary>Number of tensors added.</summary>
    public int TensorCount => _tensors.Count;

    /// <summary>
    /// Alignment of the data section and of each tensor: the <c>general.alignment</c> value when
    /// present (it must be a UInt32 power of two), else <see cref="GgufFile.DefaultAlignment"/>.
    /// </summary>
    public int Alignment => AlignmentOf(_metadata.Find(kv => kv.Key == "general.alignment").Value);

    /// <summary>Appends a metadata pair. Keys must be unique.</summary>
    public GgufWriter Add(string key, GgufValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        GgufValueWriter.Validate(value, key);
        if (key == "general.alignment") AlignmentOf(value);
        if (!_keys.Add(key)) throw new ArgumentException($"Metadata key '{key}' was already added.", nameof(key));
        _metadata.Add(new(key, value));
        return this;
    }

    /// <summary>Appends a metadata pair whose value is a string, scalar or <see cref="GgufArray"/> of one of the writable .NET types.</summary>
    public GgufWriter Add(string key, GgufValueType type, object value) => Add(key, new GgufValue(type, value));

    /// <summary>
    /// Appends a tensor. Its offset is assigned when writing: right after the previous tensor's data,
    /// rounded up to the alignment. <paramref name="data"/> must hold exactly the tensor's byte size.
    /// </summary>
    public GgufWriter AddTensor(string name, long[] dimensions, GgmlType type, ReadOnlyMemory<byte> data)
    {
        if (_explicitOffsets) throw new InvalidOperationException("Tensors with explicit offsets and packed tensors cannot be mixed.");
        var info = MakeInfo(name, dimensions, type, offset: 0);
        if (data.Length != info.ByteSize)
            throw new ArgumentException($"Tensor '{name}' ({type}, {info.ShapeText}) needs {info.ByteSize} bytes of data, got {data.Length}.", nameof(data));
        if (!_tensorNames.Add(name)) throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        _tensors.Add(new PendingTensor(info, data, null));
        return this;
    }

    /// <summary>
    /// Writes a copy of an open file: the same version, metadata, tensor infos (offsets included) and
    /// tensor data. Bytes that belong to no tensor (padding, gaps, anything after the last tensor's
    /// padding) are written the way llama.cpp writes them: zeros, up to the next aligned boundary.
    /// </summary>
    public static void Copy(GgufFile source, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        FromFile(source).WriteTo(destination);
    }

    /// <summary>A writer preloaded with everything in <paramref name="source"/>; data is read from the mapping when written, so keep the file open until then.</summary>
    public static GgufWriter FromFile(GgufFile source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var writer = new GgufWriter(source.Version);
        foreach (var (k, v) in source.Metadata.Entries) writer.Add(k, v);
        writer._explicitOffsets = true;
        foreach (var t in source.Tensors)
        {
            if (!writer._tensorNames.Add(t.Name)) throw new ArgumentException($"Duplicate tensor name '{t.Name}'.", nameof(source));
            writer._tensors.Add(new PendingTensor(t, default, source));
        }
        return writer;
    }

    /// <summary>Writes the file to <paramref name="path"/>, replacing it.</summary>
    public void WriteTo(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
        WriteTo(stream);
    }

    /// <summary>Writes the whole GGUF image to <paramref name="stream"/> (which need not be seekable) and returns the number of bytes written.</summary>
    public long WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        int alignment = Alignment;
        var tensors = _explicitOffsets ? _tensors.Select(t => t.Info).ToList() : PackOffsets(alignment);
        var dataOrder = CheckLayout(tensors, alignment);

        var w = new GgufStreamWriter(stream);
        w.WriteU32(GgufFile.Magic);
        w.WriteU32(Version);
        w.WriteU64((ulong)tensors.Count);
        w.WriteU64((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            w.WriteString(key);
            w.WriteU32((uint)value.Type);
            GgufValueWriter.Write(w, value.Type, value.Value);
        }
        foreach (var t in tensors)
        {
            w.WriteString(t.Name);
            w.WriteU32((uint)t.Dimensions.Length);
            foreach (long d in t.Dimensions) w.WriteU64((ulong)d);
            w.WriteU32((uint)t.Type);
            w.WriteU64((ulong)t.Offset);
        }

        // llama.cpp pads the data section start only when there is a data section: vocab-only
        // files end right after the last metadata value, while model files end on an aligned
        // boundary after the last tensor's padding.
        if (tensors.Count > 0)
        {
            w.PadTo(alignment);
            long dataStart = w.Position;
            foreach (int i in dataOrder)
            {
                var t = tensors[i];
                w.WriteZeros(dataStart + t.Offset - w.Position);
                WriteData(w, _tensors[i], t);
                w.PadTo(alignment);
            }
        }
        w.Flush();
        return w.Position;
    }

    private static void WriteData(GgufStreamWriter w, PendingTensor pending, GgufTensorInfo info)
    {
        if (pending.Producer is not null)
        {
            WriteProduced(w, pending.Producer, info);
            return;
        }
        if (pending.Source is null)
        {
            w.WriteBytes(pending.Data.Span);
            return;
        }
        // Chunked so tensors over 2 GiB, which have no single span, copy too.
        unsafe
        {
            byte* p = pending.Source.GetTensorPointer(info);
            long left = info.ByteSize;
            while (left > 0)
            {
                int chunk = (int)Math.Min(left, 1 << 30);
                w.WriteBytes(new ReadOnlySpan<byte>(p, chunk));
                p += chunk;
                left -= chunk;
            }
        }
    }

    private List<GgufTensorInfo> PackOffsets(int alignment)
    {
        var result = new List<GgufTensorInfo>(_tensors.Count);
        long offset = 0;
        foreach (var t in _tensors)
        {
            result.Add(t.Info with { Offset = offset });
            offset = GgufParser.AlignUp(offset + t.Info.ByteSize, alignment);
        }
        return result;
    }

    /// <summary>Checks offsets are aligned and data regions disjoint; returns tensor indices in offset order.</summary>
    private static int[] CheckLayout(List<GgufTensorInfo> tensors, int alignment)
    {
        var order = Enumerable.Range(0, tensors.Count).OrderBy(i => tensors[i].Offset).ToArray();
        long end = 0;
        foreach (int i in order)
        {
            var t = tensors[i];
            if (t.Offset % alignment != 0)
                throw new InvalidOperationException($"Tensor '{t.Name}' has offset {t.Offset}, not a multiple of the alignment {alignment}.");
            if (t.Offset < end)
                throw new InvalidOperationException($"Tensor '{t.Name}' at offset {t.Offset} overlaps the previous tensor, which ends at {end}.");
            end = t.Offset + t.ByteSize;
        }
        return order;
    }

    private static GgufTensorInfo MakeInfo(string name, long[] dimensions, GgmlType type, long offset)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(dimensions);
        if (!GgmlTypeInfo.TryGet((uint)type, out var info)) throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown ggml type.");
        if (dimensions.Length is 0 or > GgufParser.MaxDimensions)
            throw new ArgumentException($"Tensor '{name}' has {dimensions.Length} dimensions; GGUF allows 1 to {GgufParser.MaxDimensions}.", nameof(dimensions));
        if (dimensions.Any(d => d <= 0)) throw new ArgumentException($"Tensor '{name}' has a non-positive dimension.", nameof(dimensions));
        if (dimensions[0] % info.BlockSize != 0)
            throw new ArgumentException($"Tensor '{name}' row length {dimensions[0]} is not a multiple of the {type} block size {info.BlockSize}.", nameof(dimensions));
        return new GgufTensorInfo(name, (long[])dimensions.Clone(), type, offset);
    }

    private static int AlignmentOf(GgufValue? value)
    {
        if (value is null) return GgufFile.DefaultAlignment;
        if (value.Value is not uint a || value.Type != GgufValueType.UInt32 || a == 0 || (a & (a - 1)) != 0 || a > (1u << 30))
            throw new ArgumentException($"general.alignment must be a UInt32 power of two up to 2^30, not {value.Type} {value}.");
        return (int)a;
    }

    private sealed record PendingTensor(GgufTensorInfo Info, ReadOnlyMemory<byte> Data, GgufFile? Source, Action<Stream>? Producer = null);
}
